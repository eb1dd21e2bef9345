package sessions

import (
	"context"
	"net/http"
)

// GetSession returns the session of the request ctx belongs to, loading it
// on first use. Any function holding the request's context can call it; the
// same *Session is returned for the whole request.
//
// It returns ErrNoSession when ctx does not come from a request served by
// Middleware.Handler, and an error matching ErrStore when the session store
// failed (on every later call in the request too); the response is then
// replaced by the error handler's once the handler writes it, and nothing is
// saved.
// A cookie that fails verification is not an error: the request gets a
// new, empty session.
func GetSession(ctx context.Context) (*Session, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, ErrNoSession
	}
	return st.session()
}

// Commit writes the session into the response headers now, so that a
// handler can stream its body afterwards (the microdot save()). Changes made
// after Commit, before the headers go out, are committed again then. It
// returns the error the error handler would otherwise receive
// (ErrCookieTooLarge, ErrStore, an unencodable value). After the headers
// went out it saves a server-side session that needs no new cookie, and
// otherwise returns a *LateChangeError (ErrHeadersWritten). Calling it is
// never required.
func Commit(ctx context.Context) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, err := st.sessionLocked(); err != nil {
		return err
	}
	if !st.headersSent {
		return st.commitLocked()
	}
	if st.failed != nil {
		return st.failed
	}
	return st.saveLate("Commit")
}

// WithSession adapts a handler that takes the session as an argument (the
// microdot with_session decorator). The session is saved automatically, as
// for any handler the middleware wraps. When the session cannot be loaded,
// h is not called and the middleware's error handler writes the response.
func WithSession(h func(w http.ResponseWriter, r *http.Request, s *Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		if st == nil {
			http.Error(w, "sessions: WithSession used outside Middleware.Handler", http.StatusInternalServerError)
			return
		}
		s, err := st.session()
		if err != nil {
			return // the middleware reports it when the response is written
		}
		h(w, r, s)
	})
}
