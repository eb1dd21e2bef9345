package sessions

import (
	"context"
	"fmt"
)

// RegenerateSession discards the session's data and gives it a new identity
// (the chirp regenerate_session): in store mode the old record is deleted at
// once and a new id is issued; in cookie mode the old cookie is replaced.
// Call it whenever privileges change; Login and Logout do. The returned
// *Session is the same one GetSession returns, now empty; an empty session
// is not written, so the new cookie appears once something is stored in it.
// If the store fails to delete the old record, it returns an error matching
// ErrStore, the session is left as it was, and the response is replaced by
// the error handler's (Login and Logout likewise).
func RegenerateSession(ctx context.Context) (*Session, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, ErrNoSession
	}
	if err := st.regenerate(nil, "", false); err != nil {
		return nil, err
	}
	return st.session()
}

// Destroy ends the session: its data is discarded, its store record deleted
// and the browser told to delete the cookie (the microdot delete()). A value
// stored after Destroy starts a new session.
func Destroy(ctx context.Context) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	return st.regenerate(nil, "", false)
}

// regenerate resets the session, keeping the named keys, and sets the user.
func (st *state) regenerate(keep []string, userID string, fresh bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headersSent {
		return ErrHeadersWritten
	}
	s, err := st.sessionLocked()
	if err != nil {
		return err
	}
	if st.id != "" {
		// Delete the old record first: if this fails, the old session is
		// untouched and still usable, never half-replaced.
		if err := st.m.cfg.Store.Delete(st.req.Context(), storeKey(st.id)); err != nil {
			st.regenErr = fmt.Errorf("%w: delete: %w", ErrStore, err)
			return st.regenErr
		}
		st.id = ""
	}
	s.mu.Lock()
	kept := make(map[string]any, len(keep))
	for _, k := range keep {
		if v, ok := s.values[k]; ok {
			kept[k] = v
		}
	}
	s.reset(st.m.now())
	s.values = kept
	s.meta.UserID = userID
	s.meta.Fresh = fresh
	s.mu.Unlock()
	st.dropCookie = true
	return nil
}
