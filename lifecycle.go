package sessions

import (
	"context"
	crand "crypto/rand"
	"strconv"
	"time"
)

// This file holds a session's lifecycle beyond Login and Logout: its id,
// whether it is new, when it expires, remember-me, Renew and Pop.

// remember is a session's remember-me choice (RememberMe).
type remember uint8

const (
	rememberDefault remember = iota // SessionConfig.BrowserSession decides
	rememberYes                     // a persistent cookie (Max-Age)
	rememberNo                      // a browser-session cookie
)

// life is what a Session knows about its identity and times. Session owns
// it; it is guarded by Session.mu.
type life struct {
	m      *Middleware // the middleware serving the request; nil outside one
	id     string      // ID(); "" until loaded or minted
	secret string      // store mode: the session id a new record gets
	isNew  bool        // no valid cookie came with the request, or Login/Logout replaced it
	// written is when the cookie was last signed: the loaded cookie's
	// time, or this request's save.
	written time.Time
}

// ID returns a stable identifier of the session: the same on every
// request of the session, and new after Login, Logout, RegenerateSession
// and Renew. It is not secret and is never the cookie value: in store mode
// it is the storage key the Store sees (SessionInfo.ID, and what
// Middleware.DestroySession takes); in cookie mode a random id kept in the
// session's metadata, which a RevocationStore can revoke. A session that
// is still empty gets an id that lasts only if something is stored in it.
func (s *Session) ID() string {
	s.mu.Lock()
	if s.mintIDLocked() && s.life.secret == "" && !s.isEmpty() {
		// A cookie minted elsewhere carried no id: save this one with the
		// session, so that the id stays the same on the next request.
		s.track.sid = true
		s.track.gen++
	}
	id := s.life.id
	s.mu.Unlock()
	return id
}

// IsNew reports whether the session started in this request: no valid
// cookie came with it, or Login, Logout or RegenerateSession replaced it.
// Renew keeps the session, so it does not make it new.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.life.isNew
}

// Expires returns when the session ends unless a later request refreshes
// it: the earliest of MaxAge and IdleTimeout after its cookie was last
// written (by this request, if it saved the session) and AbsoluteTimeout
// after it was created. For a session not saved yet it is the time it
// would get if it were saved now. Outside the middleware it is the zero
// time.
func (s *Session) Expires() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.life.m
	if m == nil {
		return time.Time{}
	}
	written := s.life.written
	if written.IsZero() {
		written = m.now()
	}
	created := s.meta.Created
	if created.IsZero() {
		created = written
	}
	return m.expiry(created, written)
}

// idAlways reports whether every saved session gets an id, asked for or
// not: in store mode its record's key, and in cookie mode with a
// RevocationStore the id Logout and Renew revoke. In plain cookie mode an
// id is added to the cookie only once Session.ID asks for it, so that the
// cookie stays what the Python frameworks write.
func (m *Middleware) idAlways() bool {
	return m.backend.serverSide() || m.cfg.RevocationStore != nil
}

// mintIDLocked gives the session an id if it has none, and reports whether
// it did. Called with s.mu held.
func (s *Session) mintIDLocked() bool {
	if s.life.id != "" || s.life.m == nil {
		return false
	}
	s.life.id, s.life.secret = s.life.m.backend.newID()
	if s.life.secret == "" {
		s.meta.SID = s.life.id // cookie mode: the id travels in the cookie
	}
	return true
}

// forgetID drops the session's id: it ended (emptied, logged out, renewed).
// Called with s.mu held.
func (s *Session) forgetIDLocked() {
	s.life.id, s.life.secret = "", ""
	s.meta.SID = ""
}

// peekID returns the session's id without minting one.
func (s *Session) peekID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.life.id
}

// identity returns the user and the cookie-mode id the session was loaded
// or saved with, for revocation.
func (s *Session) identity() (userID, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta.UserID, s.meta.SID
}

// setWritten records that the session's cookie was signed at t.
func (s *Session) setWritten(t time.Time) {
	s.mu.Lock()
	s.life.written = t
	s.mu.Unlock()
}

// ended records that the session was emptied and its cookie or record
// removed: a later session of the request gets a new id.
func (s *Session) ended() {
	s.mu.Lock()
	s.forgetIDLocked()
	s.mu.Unlock()
}

// maxUserAgent bounds the User-Agent kept with a session, in bytes.
const maxUserAgent = 256

// setUserAgent records the browser's User-Agent (at Login, store mode).
func (s *Session) setUserAgent(ua string) {
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	s.mu.Lock()
	s.meta.UserAgent = ua
	s.mu.Unlock()
}

// newCookieID returns a cookie-mode session id: 128 random bits,
// base64url encoded.
func newCookieID() string {
	var b [16]byte
	crand.Read(b[:]) // never fails
	return b64.EncodeToString(b[:])
}

// RememberMe chooses whether this session's cookie outlives the browser:
// with true it carries Max-Age (MaxAge, or less when IdleTimeout or
// AbsoluteTimeout end the session sooner), with false it is a
// browser-session cookie, whatever SessionConfig.BrowserSession says. The
// choice is kept by every later write of the session and by Renew; Login,
// Logout and RegenerateSession start a new session without it, so call
// RememberMe after Login. MaxAge, IdleTimeout and AbsoluteTimeout still
// apply on the server either way.
//
// It returns ErrNoSession outside the middleware, the load error when the
// session could not be loaded, and a *LateChangeError (ErrHeadersWritten)
// once the headers went out, since the choice lives in the cookie.
func RememberMe(ctx context.Context, remember bool) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, err := st.sessionLocked()
	if err != nil {
		return err
	}
	if st.headersSent {
		return &LateChangeError{Call: "RememberMe"}
	}
	s.setRemember(remember)
	return nil
}

func (s *Session) setRemember(on bool) {
	r := rememberNo
	if on {
		r = rememberYes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta.Remember != r {
		s.meta.Remember = r
		s.track.remember = true
		s.track.gen++
	}
}

// cookieMaxAgeFor is the Max-Age of the cookie of a session ending at exp
// with remember-me choice r: 0 (no attribute, a browser-session cookie) or
// whole seconds rounded up, at least 1.
func (m *Middleware) cookieMaxAgeFor(r remember, exp, now time.Time) int {
	switch r {
	case rememberYes:
		return max(int((exp.Sub(now)+time.Second-1)/time.Second), 1)
	case rememberNo:
		return 0
	}
	return m.cookieMaxAge(exp, now)
}

// Renew gives the session a new id and keeps everything else: its values,
// user, flashes, remember-me choice and creation time (AbsoluteTimeout
// still counts from the login). Call it when the session's privileges
// change without a new login (sudo mode, a second factor), the way scs's
// RenewToken is used. In store mode the session moves to a new record and
// the old one is deleted at once; in cookie mode it gets a new id and,
// with a RevocationStore, the old id of a logged-in session is revoked, so
// a copy of the old cookie no longer works. Without a RevocationStore the
// old cookie stays valid until it expires: signed cookies cannot be
// recalled.
//
// It returns ErrNoSession outside the middleware, an error matching
// ErrStore when the store fails (the session is then left as it was and
// the response replaced by the error handler's), and a *LateChangeError
// (ErrHeadersWritten) once the headers went out.
func Renew(ctx context.Context) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	return st.renew()
}

// renew is Renew: the old identity is ended first (revoked, or its record
// deleted), then the session takes a new id with everything else kept.
func (st *requestState) renew() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, err := st.sessionLocked()
	if err != nil {
		return err
	}
	if st.headersSent {
		return &LateChangeError{Call: "Renew"}
	}
	if err := st.endIdentity(s); err != nil {
		return err
	}
	s.renewID()
	st.dropCookie = true
	return nil
}

// endIdentity revokes (cookie mode) or deletes (store mode) the session's
// current identity; when that fails it changes nothing and keeps the
// error for the response. Called with st.mu held.
func (st *requestState) endIdentity(s *Session) error {
	ctx := st.req.Context()
	user, sid := s.identity()
	if err := st.m.backend.revoke(ctx, user, sid); err != nil {
		st.regenErr = err
		return err
	}
	if err := st.m.backend.discard(ctx, st.ref); err != nil {
		st.regenErr = err
		return err
	}
	st.ref = sessionRef{}
	st.regenErr = nil
	return nil
}

// renewID drops the session's id, keeping everything else; the next save
// writes the whole session under a new one.
func (s *Session) renewID() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetIDLocked()
	s.track.sid = true
	s.track.gen++
}

// Pop returns the value under key converted to T, as GetAs does, and
// deletes the key: a one-time value is read once. The key is deleted even
// when its value does not fit T (the result is then the zero T and false).
func Pop[T any](s *Session, key string) (T, bool) {
	v, ok := GetAs[T](s, key)
	s.Delete(key)
	return v, ok
}

// appendLifeMeta appends the lifecycle metadata as members of the
// ReservedKey object: "rm" (remember-me), "s" (last written, Unix
// seconds), "sid" (the cookie-mode session id) and "ua" (the User-Agent at
// Login), each only when set.
func appendLifeMeta(dst []byte, m meta) []byte {
	if m.Remember != rememberDefault {
		dst = append(dst, `,"rm":`...)
		dst = strconv.AppendBool(dst, m.Remember == rememberYes)
	}
	if !m.Seen.IsZero() {
		dst = append(dst, `,"s":`...)
		dst = strconv.AppendInt(dst, m.Seen.Unix(), 10)
	}
	if m.SID != "" {
		dst = append(dst, `,"sid":`...)
		dst = appendString(dst, m.SID)
	}
	if m.UserAgent != "" {
		dst = append(dst, `,"ua":`...)
		dst = appendString(dst, m.UserAgent)
	}
	return dst
}

// readRemember reads the "rm" member appendLifeMeta writes.
func readRemember(v any) (remember, error) {
	b, ok := v.(bool)
	switch {
	case !ok:
		return rememberDefault, malformed(ReservedKey + ".rm is not a bool")
	case b:
		return rememberYes, nil
	}
	return rememberNo, nil
}
