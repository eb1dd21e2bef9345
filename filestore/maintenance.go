package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// This file holds what walks the whole directory: List, Cleanup and the
// eviction that WithLimit needs.

// List returns the ids of all live sessions (the secure_cookie list()).
// It reads every session file.
func (s *Store) List(ctx context.Context) ([]string, error) {
	var out []string
	err := s.walk(ctx, func(id string, r fileRec) {
		if s.live(r) {
			out = append(out, id)
		}
	})
	return out, err
}

func (s *Store) walk(ctx context.Context, fn func(id string, r fileRec)) error {
	ents, err := os.ReadDir(s.sub("sessions"))
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := e.Name()
		if !validID(id) {
			continue
		}
		b, err := os.ReadFile(s.path(id))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		r, err := decode(b)
		if err != nil {
			continue // reported by Find; Cleanup leaves it for inspection
		}
		fn(id, r)
	}
	return nil
}

// makeRoom ensures there is room for one more session under the limit.
func (s *Store) makeRoom(ctx context.Context) error {
	s.room.Lock()
	defer s.room.Unlock()
	ents, err := os.ReadDir(s.sub("sessions"))
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if len(ents) < s.limit {
		return nil
	}
	type candidate struct {
		id     string
		expiry time.Time
	}
	var expired, anon []candidate
	live := 0
	if err := s.walk(ctx, func(id string, r fileRec) {
		switch {
		case !s.live(r):
			expired = append(expired, candidate{id, r.expiry})
		case r.user == "":
			anon = append(anon, candidate{id, r.expiry})
			live++
		default:
			live++
		}
	}); err != nil {
		return err
	}
	slices.SortFunc(anon, func(a, b candidate) int { return a.expiry.Compare(b.expiry) })
	for _, c := range append(expired, anon...) {
		if live < s.limit && s.live(fileRec{expiry: c.expiry}) {
			break
		}
		mu := s.stripe(c.id)
		mu.Lock()
		removed, err := s.remove(c.id, false)
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		if removed && s.live(fileRec{expiry: c.expiry}) {
			live--
		}
	}
	if live >= s.limit {
		return ErrFull
	}
	return nil
}

// Cleanup removes expired session files with their index entries, and
// temporary files older than an hour left by a crashed writer. It returns
// how many sessions it removed.
func (s *Store) Cleanup(ctx context.Context) (int, error) {
	var expired []string
	if err := s.walk(ctx, func(id string, r fileRec) {
		if !s.live(r) {
			expired = append(expired, id)
		}
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range expired {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		mu := s.stripe(id)
		mu.Lock()
		removed, err := s.remove(id, true)
		mu.Unlock()
		if err != nil {
			return n, fmt.Errorf("filestore: %w", err)
		}
		if removed {
			n++
		}
	}
	if ents, err := os.ReadDir(s.sub("tmp")); err == nil {
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.Remove(filepath.Join(s.sub("tmp"), e.Name()))
			}
		}
	}
	return n, nil
}
