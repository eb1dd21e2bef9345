package sessions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
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
		st.noteOuterHeaders(w.Header())
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
	// The header keys w held when the middleware was called (HSTS, CSP,
	// CORS from middleware outside ours), which an error reply keeps:
	// the first len(outer) inline, the rest in outerMore.
	outer     [8]string
	nOuter    int
	outerMore []string

	mu          sync.Mutex
	sess        *Session   // nil until loaded
	loadErr     error      // the store failed while loading
	regenErr    error      // the store failed in Login, Logout or RegenerateSession
	hadCookie   bool       // the browser holds a cookie this response must replace or delete
	ref         sessionRef // the backend's name for the loaded or saved session
	refresh     bool       // re-sign even when unchanged (fallback key, idle refresh)
	dropCookie  bool       // regenerated or destroyed: the old cookie must not survive
	sentCookie  string     // the Set-Cookie line this state added
	headersSent bool
	done        bool  // the handler has returned
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
	if st.done {
		return nil, ErrRequestDone
	}
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
	verified := false
	var buf [maxCandidates]string
	for _, v := range cookieValues(buf[:0], st.req.Header, m.cfg.CookieName, maxCandidates) {
		st.hadCookie = true
		got, err := m.backend.load(ctx, v, now)
		if err == nil {
			l, verified = got, true
			st.ref = got.ref
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
	written := l.issued
	if st.refresh {
		written = now // the response re-signs it
	}
	st.sess.life = life{m: m, id: l.id, isNew: !verified, written: written}
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
	h := st.w.Header()
	if st.sess == nil {
		// Never loaded: nothing to save. If the request carries a session
		// cookie, the handler may still read it after the headers are
		// gone, so a shared cache must not serve this response to others.
		if hasCookie(st.req.Header, st.m.cfg.CookieName) {
			st.addVary(h)
		}
		return nil
	}
	st.addVary(h)
	return st.save(true)
}

// save writes the session through the backend when it changed (or, with
// withCookie, when it needs re-signing or a new identity), and with
// withCookie sets the cookie that goes with it. Without, it is the save of
// a change made after the headers went out, which only a server-side
// session can take. Called with st.mu held.
func (st *requestState) save(withCookie bool) error {
	m := st.m
	now := m.now()
	snap, ok, err := st.sess.prepare(now, withCookie && (st.refresh || st.dropCookie))
	if !ok || err != nil {
		return err
	}
	ctx := st.req.Context()
	// An emptied session is deleted: its cookie, and its record, if any.
	// With a record in a store, the emptying is instead written like any
	// other change, merged into what an overlapping request may have added
	// meanwhile (whose response then sets the cookie again), and the empty
	// record is left to expire; Logout deletes the record at once.
	if snap.empty && st.ref.id != "" && m.backend.serverSide() {
		ref, _, merged, err := m.backend.save(ctx, st.ref, snap, now, m.expiry(snap.created, now))
		if err != nil && !errors.Is(err, errRecordGone) {
			return err
		}
		if merged != nil && !merged.isEmpty() {
			snap.empty, snap.merged = false, merged
			st.ref = ref
			st.markSaved(snap)
			return nil
		}
		st.ref = sessionRef{}
		st.sess.ended()
		if withCookie {
			st.setCookie(m.deletionCookie())
		}
		st.markSaved(snap)
		return nil
	}
	if snap.empty {
		if err := m.backend.discard(ctx, st.ref); err != nil {
			return err
		}
		st.ref = sessionRef{}
		st.sess.ended()
		if withCookie && (st.hadCookie || st.dropCookie) {
			st.setCookie(m.deletionCookie())
		}
		st.markSaved(snap)
		return nil
	}
	exp := m.expiry(snap.created, now)
	ref, value, merged, err := m.backend.save(ctx, st.ref, snap, now, exp)
	snap.merged = merged
	if errors.Is(err, errRecordGone) {
		m.log.DebugContext(ctx, "sessions: not saved", "reason", err)
		st.markSaved(snap)
		return nil
	}
	if err != nil {
		return err
	}
	st.ref = ref
	if withCookie {
		st.setCookie(m.sessionCookie(value, m.sessionMaxAge(st.sess, snap.remember, exp, now)))
		st.hadCookie = true
		st.sess.setWritten(now)
	}
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
// RegenerateSession; call names it for errors): the backend ends the old
// one first, then the session is reset, keeping the named keys, with
// userID as its user. When it fails it changes nothing. After the headers
// went out only ending a server-side session can still work (the record is
// deleted; the browser's cookie then names nothing); anything else needs a
// new cookie and fails with a LateChangeError.
func (st *requestState) regenerate(call string, keep []string, userID string, fresh bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, err := st.sessionLocked()
	if err != nil {
		return err
	}
	late := st.headersSent
	if late && (userID != "" || !st.m.backend.serverSide()) {
		return &LateChangeError{Call: call}
	}
	var gen string
	if userID != "" {
		// The revocation generation to stamp (cookie mode with a
		// RevocationStore), read before anything changes.
		if gen, err = st.loginGeneration(s, userID); err != nil {
			st.regenErr = err
			return err
		}
	}
	// End the old session first (revoke its id in cookie mode, delete its
	// record in store mode): if this fails, it is untouched and still
	// usable, never half-replaced.
	if err := st.endIdentity(s); err != nil {
		return err
	}
	s.resetTo(keep, userID, fresh, st.m.now())
	if gen != "" {
		s.setGeneration(gen)
	}
	if userID != "" && st.m.backend.serverSide() {
		s.setUserAgent(st.req.UserAgent())
	}
	if late {
		s.markSaved(snapshot{gen: s.track.gen}) // ended; nothing to write
		return nil
	}
	st.dropCookie = true
	return nil
}

// beforeHeaders commits the session once, just before the headers go out.
// It returns the error that made the error handler replace the response, or
// nil when the response may proceed.
func (st *requestState) beforeHeaders() error {
	err, first := st.commitOnce()
	if err != nil && first {
		// The handler's headers belong to the response being replaced;
		// the keys set before the middleware ran stay.
		st.clearHandlerHeaders(st.w.Header())
		st.m.errHandler(st.w, st.req, err)
	}
	return err
}

// noteOuterHeaders records the keys of h, the headers set before the
// middleware ran. An empty h, the usual case, costs nothing.
func (st *requestState) noteOuterHeaders(h http.Header) {
	for k := range h {
		if st.nOuter < len(st.outer) {
			st.outer[st.nOuter] = k
			st.nOuter++
		} else {
			st.outerMore = append(st.outerMore, k)
		}
	}
}

// clearHandlerHeaders deletes from h every key that noteOuterHeaders did
// not record, and our session cookie should an outer key hold it.
func (st *requestState) clearHandlerHeaders(h http.Header) {
	for k := range h {
		if !slices.Contains(st.outer[:st.nOuter], k) && !slices.Contains(st.outerMore, k) {
			delete(h, k)
		}
	}
	if i := slices.Index(h["Set-Cookie"], st.sentCookie); st.sentCookie != "" && i >= 0 {
		h["Set-Cookie"] = slices.Delete(h["Set-Cookie"], i, i+1)
	}
}

// commitOnce commits the session the first time it is called and returns
// the error of that commit, and whether this call made it. The lock is
// released even if encoding a value panics.
func (st *requestState) commitOnce() (err error, first bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headersSent {
		return st.failed, false
	}
	st.headersSent = true
	prior := st.sentCookie
	st.failed = st.commitLocked()
	if st.failed == nil && prior != "" {
		// An explicit Commit set the cookie earlier; the handler (or
		// net/http's ServeContent error path) may have changed
		// Cache-Control since.
		st.guardCacheControl(st.w.Header())
	}
	return st.failed, true
}

// finish runs after the handler returned normally: it commits if nothing
// was written, and otherwise saves what changed after the headers went out
// (server-side sessions) or reports it (LateChangeError). From then on the
// request's session is closed: GetSession returns ErrRequestDone, and a
// change through a *Session still held is reported to the error handler.
func (st *requestState) finish() {
	st.mu.Lock()
	sent := st.headersSent
	st.mu.Unlock()
	if !sent {
		st.beforeHeaders()
	}
	if err := st.close(); err != nil {
		st.m.errHandler(st.w, st.req, err)
	}
}

// close saves or reports what changed after the headers went out, and
// marks the request done.
func (st *requestState) close() (err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done = true
	s := st.sess
	if s == nil {
		return nil
	}
	defer s.closeRequest(st)
	return st.saveLate("")
}

// saveLate saves what changed after the headers went out when the session
// is server-side and needs no new cookie, and otherwise returns a
// LateChangeError naming call (if any) and the changed keys. Called with
// st.mu held.
func (st *requestState) saveLate(call string) error {
	s := st.sess
	if st.failed != nil || (!st.dropCookie && !s.changed()) {
		return nil
	}
	if st.dropCookie || st.ref.id == "" || !st.m.backend.serverSide() {
		return &LateChangeError{Call: call, Keys: s.changedNames()}
	}
	return st.save(false)
}

// reportAfterDone tells the error handler about a change made through a
// *Session after the request was over. The response is gone: the handler
// gets a writer that discards what it writes.
func (st *requestState) reportAfterDone(what string) {
	st.m.errHandler(discardWriter{h: http.Header{}}, st.req, &LateChangeError{Call: what, AfterHandler: true})
}

// discardWriter is the ResponseWriter of an error reported after the
// request was over.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}
