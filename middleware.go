package sessions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
	idCodec    *signer // store mode: signs the session id
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
		st := &state{Context: r.Context(), m: m, req: r, w: w}
		next.ServeHTTP(st.wrap(w), r.WithContext(st))
		st.finish()
	})
}

type ctxKey struct{}

// state is one request's session state. It is also the context the
// wrapped handler's request carries (the parent context with the state
// as the value of ctxKey{}), so goroutines the handler starts may use it:
// every field after mu is guarded by mu.
type state struct {
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
	id          string   // store mode: the session id, "" before one is issued
	refresh     bool     // re-sign even when unchanged (fallback key, idle refresh)
	dropCookie  bool     // regenerated or destroyed: the old cookie must not survive
	sentCookie  string   // the Set-Cookie line this state added
	headersSent bool
	failed      error // the error handler replaced the response because of this
}

// Value returns the state for ctxKey{} and asks the parent context
// otherwise, as a context.WithValue would.
func (st *state) Value(key any) any {
	if key == (ctxKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func stateFrom(ctx context.Context) *state {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(ctxKey{}).(*state)
	return st
}

// session returns the request's session, loading it on first use.
func (st *state) session() (*Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sessionLocked()
}

func (st *state) sessionLocked() (*Session, error) {
	if st.sess == nil && st.loadErr == nil {
		st.load()
	}
	if st.loadErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrSessionFailed, st.loadErr)
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
func (st *state) load() {
	m := st.m
	now := m.now()
	s := &Session{scheme: m.scheme} // values: a decoded cookie's, or made below
	var buf [maxCandidates]string
	for _, v := range cookieValues(buf[:0], st.req.Header, m.cfg.CookieName, maxCandidates) {
		st.hadCookie = true
		err := st.loadFrom(s, v, now)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrInvalidCookie) {
			st.loadErr = err
			return
		}
		m.log.DebugContext(st.req.Context(), "sessions: cookie rejected", "cookie", m.cfg.CookieName, "reason", err)
		s = &Session{scheme: m.scheme}
		st.id = ""
		st.refresh = false
	}
	if s.values == nil {
		s.values = map[string]any{}
	}
	st.sess = s
}

// loadFrom verifies one cookie value and fills s from it.
func (st *state) loadFrom(s *Session, value string, now time.Time) error {
	m := st.m
	ctx := st.req.Context()
	var v verified
	var err error
	if m.cfg.Store == nil {
		v, err = m.verifyCookie(ctx, value, now)
	} else {
		v, err = st.verifyID(ctx, value, now)
	}
	if err != nil {
		st.id = ""
		return err
	}
	s.values, s.meta = v.values, v.meta
	st.refresh = v.stale || (m.refreshAge > 0 && now.Sub(v.issued) >= m.refreshAge)
	return nil
}

// verified is a session cookie that passed every check.
type verified struct {
	values map[string]any
	meta   meta // meta.Created is set: the signed time when the payload had none
	issued time.Time
	stale  bool // verified with a fallback key
}

// verifyCookie checks a cookie-mode value as the middleware does: size,
// signature, MaxAge, IdleTimeout, clock skew, strict JSON, AbsoluteTimeout
// and, with a RevocationStore, DestroyUser.
func (m *Middleware) verifyCookie(ctx context.Context, value string, now time.Time) (verified, error) {
	if len(m.cfg.CookieName)+1+len(value) > MaxCookieSize {
		return verified{}, malformed("cookie too large")
	}
	d, err := m.codec.Decode(value, now)
	if err != nil {
		return verified{}, err
	}
	v := verified{issued: d.Issued, stale: d.Stale}
	if err := m.checkAge(v.issued, now); err != nil {
		return verified{}, err
	}
	if err := m.checkPayload(&v, d.Payload, now); err != nil {
		return verified{}, err
	}
	if m.cfg.RevocationStore != nil && v.meta.UserID != "" {
		// DestroyUser may have revoked this user's cookies; a lookup
		// failure is a store failure, never an anonymous session.
		if err := m.checkRevoked(ctx, v.meta.UserID, v.meta.Created); err != nil {
			return verified{}, err
		}
	}
	return v, nil
}

// verifyID checks a store-mode cookie and loads its record.
func (st *state) verifyID(ctx context.Context, value string, now time.Time) (verified, error) {
	m := st.m
	if len(m.cfg.CookieName)+1+len(value) > MaxCookieSize {
		return verified{}, malformed("cookie too large")
	}
	id, issued, stale, err := m.unsignID(value)
	if err != nil {
		return verified{}, err
	}
	if err := m.checkAge(issued, now); err != nil {
		return verified{}, err
	}
	data, found, err := m.cfg.Store.Find(ctx, storeKey(id))
	if err != nil {
		return verified{}, fmt.Errorf("%w: find: %w", ErrStore, err)
	}
	if !found {
		return verified{}, ErrRevoked
	}
	v := verified{issued: issued, stale: stale}
	if err := m.checkPayload(&v, data, now); err != nil {
		return verified{}, err
	}
	st.id = id
	return v, nil
}

// checkPayload parses a verified payload into v and applies
// AbsoluteTimeout. A payload without a creation time (minted elsewhere) is
// counted from its signed time, so no refresh can restart the count.
func (m *Middleware) checkPayload(v *verified, payload []byte, now time.Time) error {
	values, md, err := decodePayload(m.scheme, payload)
	if err != nil {
		return err
	}
	if md.Created.IsZero() {
		md.Created = v.issued
	}
	if a := m.cfg.AbsoluteTimeout; a > 0 && !md.Created.IsZero() && now.Sub(md.Created) > a {
		return &ExpiredError{Issued: md.Created, Limit: a, Which: "AbsoluteTimeout"}
	}
	v.values, v.meta = values, md
	return nil
}

// checkAge applies MaxAge, IdleTimeout and ClockSkew to a signed timestamp.
func (m *Middleware) checkAge(issued, now time.Time) error {
	if issued.IsZero() {
		return nil
	}
	age := now.Sub(issued)
	switch {
	case age < -m.cfg.ClockSkew:
		return ErrFuture
	case age > m.cfg.MaxAge:
		return &ExpiredError{Issued: issued, Limit: m.cfg.MaxAge, Which: "MaxAge"}
	case m.cfg.IdleTimeout > 0 && age > m.cfg.IdleTimeout:
		return &ExpiredError{Issued: issued, Limit: m.cfg.IdleTimeout, Which: "IdleTimeout"}
	}
	return nil
}

// newSessionID returns 256 random bits, base64url encoded.
func newSessionID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return b64.EncodeToString(b[:])
}

// storeKey is the id a Store sees for a session id.
func storeKey(id string) string {
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], id...))
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// signID returns the cookie value of a store-mode session id.
func (m *Middleware) signID(id string, now time.Time) string {
	return m.idCodec.sign([]byte(id), now)
}

// unsignID verifies a store-mode cookie and returns the session id.
func (m *Middleware) unsignID(value string) (string, time.Time, bool, error) {
	id, issued, stale, err := m.idCodec.unsign(value)
	if err != nil {
		return "", time.Time{}, false, err
	}
	if len(id) != 43 {
		return "", time.Time{}, false, malformed("bad session id")
	}
	return id, issued, stale, nil
}

// expiry returns when a session written at now must end.
func (m *Middleware) expiry(created, now time.Time) time.Time {
	exp := now.Add(m.cfg.MaxAge)
	if t := now.Add(m.cfg.IdleTimeout); m.cfg.IdleTimeout > 0 && t.Before(exp) {
		exp = t
	}
	if t := created.Add(m.cfg.AbsoluteTimeout); m.cfg.AbsoluteTimeout > 0 && !created.IsZero() && t.Before(exp) {
		exp = t
	}
	return exp
}

// errRecordGone means Update found the session deleted by a concurrent
// Logout or DestroyUser: nothing is written and no cookie is sent.
var errRecordGone = errors.New("sessions: session ended while the request ran")

// commitLocked writes the session into the response headers if it changed,
// was regenerated, or needs re-signing. Called with st.mu held.
func (st *state) commitLocked() error {
	if st.loadErr != nil {
		return st.loadErr
	}
	if st.regenErr != nil {
		// The old session is intact, but the response must not pretend
		// the logout or login happened.
		return st.regenErr
	}
	s := st.sess
	m := st.m
	h := st.w.Header()
	if s == nil {
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
	s.mu.Lock()
	dirty := s.dirty()
	if !dirty && !st.refresh && !st.dropCookie {
		s.mu.Unlock()
		return nil
	}
	empty := s.isEmpty()
	var payload []byte
	var err error
	md := s.meta
	if !empty {
		if md.Created.IsZero() {
			md.Created = now
		}
		payload, err = encodePayload(make([]byte, 0, 256), s.scheme, s.values, md)
	}
	mark := s.mark()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sessions: encoding session: %w", err)
	}

	ctx := st.req.Context()
	if empty {
		if st.id != "" {
			if err := m.cfg.Store.Delete(ctx, storeKey(st.id)); err != nil {
				return fmt.Errorf("%w: delete: %w", ErrStore, err)
			}
			st.id = ""
		}
		if st.hadCookie || st.dropCookie {
			st.setCookie(m.deletionCookie())
		}
		st.markClean(s, md, mark)
		return nil
	}

	exp := m.expiry(md.Created, now)
	var value string
	if m.cfg.Store == nil {
		if value, err = m.codec.Encode(payload, now); err != nil {
			return fmt.Errorf("sessions: encoding cookie: %w", err)
		}
		if len(m.cfg.CookieName)+1+len(value) > MaxCookieSize {
			return ErrCookieTooLarge
		}
	} else {
		rec := Record{Data: payload, Expiry: wallExpiry(now, exp), UserID: md.UserID}
		if st.id == "" {
			id := newSessionID()
			rec.ID = storeKey(id)
			if err := m.cfg.Store.Create(ctx, rec); err != nil {
				return fmt.Errorf("%w: create: %w", ErrStore, err)
			}
			st.id = id
		} else {
			rec.ID = storeKey(st.id)
			found, err := m.cfg.Store.Update(ctx, rec)
			if err != nil {
				return fmt.Errorf("%w: update: %w", ErrStore, err)
			}
			if !found {
				m.log.DebugContext(ctx, "sessions: not saved", "reason", errRecordGone)
				st.markClean(s, md, mark)
				return nil
			}
		}
		value = m.signID(st.id, now)
	}
	maxAge := 0
	if !m.cfg.BrowserSession {
		maxAge = max(int((exp.Sub(now)+time.Second-1)/time.Second), 1)
	}
	st.setCookie(m.sessionCookie(value, maxAge))
	st.hadCookie = true
	st.markClean(s, md, mark)
	return nil
}

// markClean records that s, with metadata md, as captured by mark, is what
// the response carries.
func (st *state) markClean(s *Session, md meta, mark saveMark) {
	s.mu.Lock()
	s.meta.Created = md.Created
	s.saved(mark)
	s.mu.Unlock()
	st.refresh = false
	st.dropCookie = false
}

// beforeHeaders commits the session once, just before the headers go out.
// It returns the error that made the error handler replace the response, or
// nil when the response may proceed.
func (st *state) beforeHeaders() error {
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
func (st *state) finish() {
	st.mu.Lock()
	sent := st.headersSent
	late := false
	if sent && st.failed == nil && st.sess != nil {
		st.sess.mu.Lock()
		late = st.sess.dirty()
		st.sess.mu.Unlock()
		late = late || st.dropCookie
	}
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
