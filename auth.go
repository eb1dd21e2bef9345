package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Login records userID as the session's user and prevents session fixation:
// the pre-login data is discarded and the session gets a new identity (a new
// cookie, and in store mode a new id with the old record deleted). The login
// time becomes the session's creation time, from which AbsoluteTimeout
// counts. It returns ErrInvalidUserID for an empty userID.
//
// The user id goes where the format's Python framework keeps it (see
// Format), with what that framework needs to accept the login: for
// FormatFlask, Flask-Login's "_user_id", "_fresh" and its session
// protection identifier "_id" (computed from this request as Flask-Login
// computes it), and Flask's "_permanent" is carried over; for FormatJWT,
// microdot.login's "_user_id" and "_fresh"; for FormatDjango,
// "_auth_user_id", to which SessionConfig.OnLogin adds what Django checks.
// When OnLogin fails, Login returns its error and changes nothing.
func Login(ctx context.Context, userID string) error {
	return LoginKeep(ctx, userID)
}

// LoginKeep is Login that carries the named keys (a shopping cart, a
// preferred language) from the anonymous session into the new one.
func LoginKeep(ctx context.Context, userID string, keys ...string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	m := st.m
	s, err := st.session()
	if err != nil {
		return err
	}
	if lk, ok := m.scheme.(loginKeeper); ok {
		keys = append(slices.Clip(keys), lk.loginKeeps()...)
	}
	// The new session is staged first, so that OnLogin sees it whole and
	// its failure leaves the old session untouched.
	staged := s.stage(keys, userID, m.now())
	if lv, ok := m.scheme.(loginValuer); ok {
		for k, v := range lv.loginValues(st.req) {
			staged.values[k] = v
		}
	}
	if m.cfg.OnLogin != nil {
		if st.late() {
			return &LateChangeError{Call: "Login"}
		}
		if err := m.cfg.OnLogin(ctx, staged, userID); err != nil {
			return fmt.Errorf("sessions: OnLogin: %w", err)
		}
	}
	if err := st.regenerate("Login", keys, userID, true); err != nil {
		return err
	}
	s.adoptStaged(staged)
	return nil
}

// A loginKeeper is a scheme whose framework keeps some keys across a login
// (Flask's "_permanent").
type loginKeeper interface{ loginKeeps() []string }

// A loginValuer is a scheme whose framework writes values of its own in a
// login, computed from the request (Flask-Login's "_id").
type loginValuer interface {
	loginValues(r *http.Request) map[string]any
}

// late reports whether the response headers have gone out.
func (st *requestState) late() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.headersSent
}

// stage returns a session holding what Login will leave in s: the kept
// keys, userID, fresh, created now. s itself is not changed.
func (s *Session) stage(keep []string, userID string, now time.Time) *Session {
	s.mu.Lock()
	kept := make(map[string]any, len(keep))
	for _, k := range keep {
		if v, ok := s.values[k]; ok {
			kept[k] = v
		}
	}
	s.mu.Unlock()
	return newSession(s.scheme, kept, meta{UserID: userID, Fresh: true, Created: now})
}

// adoptStaged makes s, just reset by Login, hold what staged holds.
func (s *Session) adoptStaged(staged *Session) {
	staged.mu.Lock()
	values := staged.values
	flashes := slices.Clone(staged.meta.Flashes)
	staged.mu.Unlock()
	for _, k := range s.Keys() {
		if _, ok := values[k]; !ok {
			s.Delete(k)
		}
	}
	for k, v := range values {
		s.Set(k, v)
	}
	for _, f := range flashes {
		s.AddFlash(f.Category, f.Message)
	}
}

// Logout ends the session: the data and user id are discarded, the store
// record deleted, and the cookie deleted with the configured Path and
// Domain. It also deletes the remember-me cookie of the Python side
// (SessionConfig.RememberCookieName) when the request carries one, so that
// Flask-Login or microdot.login cannot log the user back in from it. It is
// Destroy, named for auth flows, plus that deletion. A flash added after
// Logout starts a new anonymous session.
//
// With a Store, the deleted record makes every copy of the cookie useless.
// In cookie mode with SessionConfig.RevocationStore, the session's id is
// revoked until every cookie carrying it has expired, so a copy taken
// before Logout, and a cookie re-issued by a request that was running
// meanwhile, are rejected. Without either, a signed cookie cannot be
// revoked: Logout deletes only the browser's copy, and a copy taken before
// keeps working until MaxAge runs out.
func Logout(ctx context.Context) error {
	if err := Destroy(ctx); err != nil {
		return err
	}
	stateFrom(ctx).deleteRememberCookie()
	return nil
}

// deleteRememberCookie adds the deletion of the remember-me cookie to the
// response, if the request has one and the headers have not gone out.
func (st *requestState) deleteRememberCookie() {
	cfg := &st.m.cfg
	if cfg.RememberCookieName == "" {
		return
	}
	var buf [1]string
	if len(cookieValues(buf[:0], st.req.Header, cfg.RememberCookieName, 1)) == 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headersSent {
		return
	}
	c := http.Cookie{Name: cfg.RememberCookieName, Path: cfg.RememberCookiePath, MaxAge: -1}
	st.w.Header().Add("Set-Cookie", c.String())
}

// checkRememberCookie fills in the remember-me cookie defaults of cfg's
// format and rejects a name or path net/http would not write as given.
func checkRememberCookie(cfg *SessionConfig) error {
	if cfg.RememberCookieName == "" && cfg.Codec == nil {
		switch cfg.Format {
		case FormatFlask:
			cfg.RememberCookieName = "remember_token"
		case FormatJWT:
			cfg.RememberCookieName = "_remember"
		}
	}
	if cfg.RememberCookiePath == "" {
		cfg.RememberCookiePath = "/"
	}
	if cfg.RememberCookieName == "" {
		return nil
	}
	if cfg.RememberCookieName == cfg.CookieName {
		return configErr("RememberCookieName %q is the session cookie's name", cfg.RememberCookieName)
	}
	if err := (&http.Cookie{Name: cfg.RememberCookieName, Value: "v"}).Valid(); err != nil {
		return configErr("RememberCookieName: %v", err)
	}
	p := cfg.RememberCookiePath
	if !strings.HasPrefix(p, "/") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x21 || r > 0x7e || r == ';' }) {
		return configErr("RememberCookiePath %q must start with '/' and hold no space, control character or ';'", p)
	}
	c := &http.Cookie{Name: cfg.RememberCookieName, Value: "v", Path: p}
	if back, err := http.ParseSetCookie(c.String()); err != nil || back.Path != p {
		return configErr("RememberCookiePath %q would not be read back as given", p)
	}
	return nil
}

// UserID returns the id given to Login and true, or "" and false for an
// anonymous session, outside the middleware, or when the session could not
// be loaded. It reads the user id where the format's framework keeps it, so
// a login made on the Python side (Flask-Login's login_user, microdot's
// login_user, Django's login) is seen here.
func UserID(ctx context.Context) (string, bool) {
	s, err := GetSession(ctx)
	if err != nil {
		return "", false
	}
	id := s.UserID()
	return id, id != ""
}

// djangoAuthHashSalt is the key salt of Django's
// AbstractBaseUser.get_session_auth_hash.
const djangoAuthHashSalt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"

// DjangoAuthHash returns the "_auth_user_hash" Django (3.1 and later)
// checks in every logged-in session: user.get_session_auth_hash(), that is
// salted_hmac(key_salt, user.password, secret=SECRET_KEY,
// algorithm="sha256").hexdigest(). passwordHash is the user's password
// column of Django's auth_user table, as it is ("pbkdf2_sha256$..."). A
// password change in Django changes the hash and so ends the user's
// sessions on both sides. Use it in SessionConfig.OnLogin with FormatDjango:
//
//	OnLogin: func(ctx context.Context, s *sessions.Session, userID string) error {
//		hash, err := passwordHashOf(ctx, userID) // SELECT password FROM auth_user WHERE id = $1
//		if err != nil {
//			return err
//		}
//		s.Set("_auth_user_backend", "django.contrib.auth.backends.ModelBackend")
//		s.Set("_auth_user_hash", sessions.DjangoAuthHash(djangoSecretKey, hash))
//		return nil
//	},
func DjangoAuthHash(secretKey, passwordHash string) string {
	key := sha256.Sum256([]byte(djangoAuthHashSalt + secretKey))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(passwordHash))
	return hex.EncodeToString(mac.Sum(nil))
}
