package sessions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// A Middleware serves sessions to the handlers it wraps. Create it with New;
// it is safe for concurrent use and holds no per-request state.
type Middleware struct {
	cfg        SessionConfig // validated, defaults applied
	codec      Codec
	scheme     scheme
	backend    backend // cookie mode or store mode
	cookieTmpl http.Cookie
	cookieLine cookieLine // cookieTmpl's Set-Cookie line, in parts
	errHandler func(w http.ResponseWriter, r *http.Request, err error)
	log        *slog.Logger
	now        func() time.Time
	refreshAge time.Duration // re-sign a cookie older than this; 0: never
}

// Handler returns next wrapped with session handling. The session is loaded
// lazily, on the first GetSession of a request; a request that never asks
// for its session costs no decoding and gets no Set-Cookie. Changes are
// written into the response headers just before they go out (WriteHeader,
// the first Write, Flush, ReadFrom) or when next returns without writing.
// If next panics, nothing more is saved and the panic propagates (what
// Commit, Login, Logout or RegenerateSession already did to a store stays
// done).
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One allocation holds the state, the context that carries it and
		// the ResponseWriter wrapper; r.WithContext makes the other.
		st := &requestState{Context: r.Context(), m: m, req: r, w: w}
		next.ServeHTTP(st.wrap(w), r.WithContext(st))
		st.finish()
	})
}

type ctxKey struct{}

// requestState is one request's session state: the context the wrapped
// handler's request carries (the parent context with the state as the value
// of ctxKey{}), the lock, and the lifecycle: load once, commit once before
// the headers go out, report what came too late. What differs between
// cookie mode and store mode is behind m.backend; what is written into the
// response headers is in headers.go.
//
// Lock order: requestState.mu, then Session.mu, which only Session's own
// methods take. Every field after mu is guarded by mu, and store I/O (the
// backend's load, save and discard) happens with mu held, so one request's
// loads, commits and regenerations run one at a time; Session.mu is never
// held across I/O, so goroutines using the session are not blocked by a
// slow store.
type requestState struct {
	context.Context // the request's own context

	m   *Middleware
	req *http.Request
	w   http.ResponseWriter // the writer the middleware was given
	rw  responseWriter      // the wrapper around w that next gets
	hdr [3]string           // storage for the Vary, Cache-Control and Set-Cookie values we add

	mu          sync.Mutex
	sess        *Session // nil until loaded
	loadErr     error    // the store failed while loading
	regenErr    error    // the store failed in Login, Logout or RegenerateSession
	hadCookie   bool     // the browser holds a cookie this response must replace or delete
	handle      string   // the backend's name for the session: store mode's id; "" before one is issued
	refresh     bool     // re-sign even when unchanged (fallback key, idle refresh)
	dropCookie  bool     // regenerated or destroyed: the old cookie must not survive
	sentCookie  string   // the Set-Cookie line this state added
	headersSent bool
	failed      error // the error handler replaced the response because of this
}

// Value returns the state for ctxKey{} and asks the parent context
// otherwise, as a context.WithValue would.
func (st *requestState) Value(key any) any {
	if key == (ctxKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func stateFrom(ctx context.Context) *requestState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(ctxKey{}).(*requestState)
	return st
}

// session returns the request's session, loading it on first use.
func (st *requestState) session() (*Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sessionLocked()
}

func (st *requestState) sessionLocked() (*Session, error) {
	if st.sess == nil && st.loadErr == nil {
		st.load()
	}
	if st.loadErr != nil {
		return nil, st.loadErr
	}
	return st.sess, nil
}

// maxCandidates bounds how many cookies of our name a request may make us
// verify.
const maxCandidates = 4

// load reads the session from the request. A cookie that fails
// verification is skipped (the reason is logged); several cookies of the
// same name are tried in the order the browser sent them and the first that
// verifies wins. A store failure is kept in loadErr: it never becomes an
// empty session.
func (st *requestState) load() {
	m := st.m
	now := m.now()
	ctx := st.req.Context()
	var l loaded
	var buf [maxCandidates]string
	for _, v := range cookieValues(buf[:0], st.req.Header, m.cfg.CookieName, maxCandidates) {
		st.hadCookie = true
		got, err := m.backend.load(ctx, v, now)
		if err == nil {
			l = got
			st.handle = got.handle
			st.refresh = got.stale || (m.refreshAge > 0 && now.Sub(got.issued) >= m.refreshAge)
			break
		}
		if !errors.Is(err, ErrInvalidCookie) {
			st.loadErr = err
			return
		}
		m.log.DebugContext(ctx, "sessions: cookie rejected", "cookie", m.cfg.CookieName, "reason", err)
	}
	st.sess = newSession(m.scheme, l.values, l.meta)
}

// commitLocked writes the session into the response headers if it changed,
// was regenerated, or needs re-signing. Called with st.mu held.
func (st *requestState) commitLocked() error {
	if st.loadErr != nil {
		return st.loadErr
	}
	if st.regenErr != nil {
		// The old session is intact, but the response must not pretend
		// the logout or login happened.
		return st.regenErr
	}
	m := st.m
	h := st.w.Header()
	if st.sess == nil {
		// Never loaded: nothing to save. If the request carries a session
		// cookie, the handler may still read it after the headers are
		// gone, so a shared cache must not serve this response to others.
		if hasCookie(st.req.Header, m.cfg.CookieName) {
			st.addVary(h)
		}
		return nil
	}
	st.addVary(h)

	now := m.now()
	snap, ok, err := st.sess.prepare(now, st.refresh || st.dropCookie)
	if !ok {
		return nil
	}
	if err != nil {
		return err
	}
	ctx := st.req.Context()
	if snap.empty {
		if err := m.backend.discard(ctx, st.handle); err != nil {
			return err
		}
		st.handle = ""
		if st.hadCookie || st.dropCookie {
			st.setCookie(m.deletionCookie())
		}
		st.markSaved(snap)
		return nil
	}
	exp := m.expiry(snap.created, now)
	handle, value, err := m.backend.save(ctx, st.handle, snap, now, exp)
	if errors.Is(err, errRecordGone) {
		m.log.DebugContext(ctx, "sessions: not saved", "reason", err)
		st.markSaved(snap)
		return nil
	}
	if err != nil {
		return err
	}
	st.handle = handle
	st.setCookie(m.sessionCookie(value, m.cookieMaxAge(exp, now)))
	st.hadCookie = true
	st.markSaved(snap)
	return nil
}

// markSaved records that the response carries snap.
func (st *requestState) markSaved(snap snapshot) {
	st.sess.markSaved(snap)
	st.refresh = false
	st.dropCookie = false
}

// regenerate gives the session a new identity (Login, Logout,
// RegenerateSession): the backend ends the old one first, then the session
// is reset, keeping the named keys, with userID as its user.
func (st *requestState) regenerate(keep []string, userID string, fresh bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, err := st.sessionLocked()
	if err != nil {
		return err
	}
	// End the old session first: if this fails, it is untouched and still
	// usable, never half-replaced. This happens even after the headers
	// went out, so a late Logout still ends a server-side session.
	if err := st.m.backend.discard(st.req.Context(), st.handle); err != nil {
		st.regenErr = err
		return err
	}
	st.handle = ""
	st.regenErr = nil
	s.resetTo(keep, userID, fresh, st.m.now())
	st.dropCookie = true
	if st.headersSent {
		// The cookie can no longer be replaced; the error handler is told
		// when the handler returns.
		return ErrHeadersWritten
	}
	return nil
}

// beforeHeaders commits the session once, just before the headers go out.
// It returns the error that made the error handler replace the response, or
// nil when the response may proceed.
func (st *requestState) beforeHeaders() error {
	st.mu.Lock()
	if st.headersSent {
		err := st.failed
		st.mu.Unlock()
		return err
	}
	st.headersSent = true
	err := st.commitLocked()
	if err != nil {
		st.failed = err
	}
	st.mu.Unlock()
	if err != nil {
		// The handler's headers belong to the response being replaced.
		// (Headers an outer middleware set before this one cannot be told
		// apart from them without a copy on every request; they go too.)
		clear(st.w.Header())
		st.m.errHandler(st.w, st.req, err)
	}
	return err
}

// finish runs after the handler returned normally.
func (st *requestState) finish() {
	st.mu.Lock()
	sent := st.headersSent
	late := sent && st.failed == nil && st.sess != nil && (st.dropCookie || st.sess.changed())
	st.mu.Unlock()
	if !sent {
		st.beforeHeaders()
		return
	}
	if late {
		st.m.errHandler(st.w, st.req, ErrHeadersWritten)
	}
}

func isHeadersWritten(err error) bool { return errors.Is(err, ErrHeadersWritten) }
