package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// This file holds the per-user index: users/<sha256(user)>/<id> markers.

func (s *Store) addMarker(user, id string) error {
	if user == "" {
		return nil
	}
	// removeMarker deletes the user's directory once it is empty, so it
	// may vanish between MkdirAll and OpenFile: try again.
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(userDir(s.dir, user), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(s.marker(user, id), os.O_WRONLY|os.O_CREATE, 0o600)
		if errors.Is(err, fs.ErrNotExist) && attempt < 100 {
			continue
		}
		if err != nil {
			return err
		}
		return f.Close()
	}
}

func (s *Store) removeMarker(user, id string) {
	if user == "" {
		return
	}
	os.Remove(s.marker(user, id))
	os.Remove(userDir(s.dir, user)) // only succeeds once empty
}

// markers lists the ids in user's index.
func (s *Store) markers(user string) ([]string, error) {
	ents, err := os.ReadDir(userDir(s.dir, user))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// UserSessions returns the ids of userID's live sessions, reading only
// that user's index and files.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids, err := s.markers(userID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(s.path(id))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		if r, err := decode(b); err == nil && r.user == userID && s.live(r) {
			out = append(out, id)
		}
	}
	return out, nil
}

// DeleteUser deletes every session in userID's index.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ids, err := s.markers(userID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.deleteIfUser(id, userID); err != nil {
			return err
		}
		os.Remove(s.marker(userID, id))
	}
	os.Remove(userDir(s.dir, userID))
	return nil
}

func (s *Store) deleteIfUser(id, user string) error {
	mu := s.stripe(id)
	mu.Lock()
	defer mu.Unlock()
	l, err := s.openRecord(id)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if l == nil {
		return nil
	}
	defer l.unlock()
	if l.bad == nil && l.rec.user != user {
		return nil // the marker is stale: the id belongs to someone else now
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}
