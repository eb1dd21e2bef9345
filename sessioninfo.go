package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SessionInfo describes one live session of a user, for an "active
// sessions" page (Middleware.UserSessions).
type SessionInfo struct {
	ID string // equals Session.ID() of that session
	// Created is when the session was created (logged in); LastSeen when
	// it was last written: when it changed, and with IdleTimeout at most
	// every IdleTimeout/4 while in use, never a write per request; Expires
	// when it ends unless refreshed.
	Created, LastSeen, Expires time.Time
	UserAgent                  string // the browser's User-Agent at Login
	// Current reports that this is the session of the request whose
	// context was passed to UserSessions ("this device").
	Current bool
}

// ErrNoSuchSession is returned by Middleware.DestroySession for a session
// id that is not one of the user's live sessions.
var ErrNoSuchSession = errors.New("sessions: no such session of this user")

// UserSessions returns userID's live sessions, most recently seen first,
// for showing a user where they are logged in; Middleware.DestroySession
// ends one of them. When ctx is a request's context, its own session is
// marked Current. It needs a Store that is a UserStore and reads each
// session's record once; it returns ErrNotSupported otherwise (including
// in cookie mode, where the server keeps no list), and an error matching
// ErrStore when the store fails.
func (m *Middleware) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if userID == "" {
		return nil, ErrInvalidUserID
	}
	infos, err := m.backend.userSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	if st := stateFrom(ctx); st != nil && st.m == m {
		st.mu.Lock()
		cur := ""
		if st.sess != nil {
			cur = st.sess.peekID()
		}
		st.mu.Unlock()
		for i := range infos {
			infos[i].Current = cur != "" && infos[i].ID == cur
		}
	}
	return infos, nil
}

// DestroySession ends one session of userID ("log out that device"),
// named by its ID (SessionInfo.ID, Session.ID). When sessionID is not a
// live session of userID it returns an error matching ErrNoSuchSession and
// ends nothing, so a user can only end their own sessions.
//
// In store mode it deletes the session's record. In cookie mode it needs
// SessionConfig.RevocationStore and records the id there as revoked for
// userID (without one it returns ErrNotSupported); the server keeps no
// list of cookie sessions, so it cannot tell whether the id was ever
// userID's, but the entry can only end userID's session with that id. A
// store failure is returned wrapped in ErrStore.
func (m *Middleware) DestroySession(ctx context.Context, userID, sessionID string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	return m.backend.destroySession(ctx, userID, sessionID)
}

// userSessions reads the record of each session the UserStore lists.
func (sm *storeMode) userSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	us, err := sm.userStore("UserSessions")
	if err != nil {
		return nil, err
	}
	ids, err := us.UserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: user sessions: %w", ErrStore, err)
	}
	infos := make([]SessionInfo, 0, len(ids))
	for _, id := range ids {
		rec, found, err := sm.store.Find(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%w: find: %w", ErrStore, err)
		}
		if !found || rec.UserID != userID {
			continue // ended since it was listed
		}
		_, md, err := decodePayload(sm.m.scheme, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: session record %.8s: %w", ErrStore, id, err)
		}
		seen := cmp.Or(md.Seen, md.Created)
		infos = append(infos, SessionInfo{
			ID:        id,
			Created:   md.Created,
			LastSeen:  seen,
			Expires:   sm.m.expiry(md.Created, seen),
			UserAgent: md.UserAgent,
		})
	}
	slices.SortFunc(infos, func(a, b SessionInfo) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.ID, b.ID))
	})
	return infos, nil
}

// destroySession deletes sessionID's record if it is userID's.
func (sm *storeMode) destroySession(ctx context.Context, userID, sessionID string) error {
	if !validStoreKey(sessionID) {
		return fmt.Errorf("%w: %q is not a session id", ErrNoSuchSession, sessionID)
	}
	rec, found, err := sm.store.Find(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("%w: find: %w", ErrStore, err)
	}
	if !found || rec.UserID != userID {
		return ErrNoSuchSession
	}
	if err := sm.store.Delete(ctx, sessionID); err != nil {
		return fmt.Errorf("%w: delete: %w", ErrStore, err)
	}
	return nil
}

// newID chooses the session id of a new record; its storage key is the
// session's public id.
func (sm *storeMode) newID() (string, string) {
	secret := newSessionID()
	return storeKey(secret), secret
}

// revoke has nothing to do in store mode: ending a session deletes its
// record.
func (sm *storeMode) revoke(context.Context, string, string) error { return nil }

// validStoreKey reports whether id has the shape storeKey gives: 64
// lowercase hex digits.
func validStoreKey(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
