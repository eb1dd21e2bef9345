package sessions

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// Defaults and limits.
const (
	// DefaultCookieName is the cookie name when SessionConfig.CookieName is empty.
	DefaultCookieName = "session"
	// DefaultMaxAge is the lifetime when SessionConfig.MaxAge is zero.
	DefaultMaxAge = 14 * 24 * time.Hour
	// DefaultClockSkew is how far in the future a signed timestamp may lie
	// when SessionConfig.ClockSkew is zero.
	DefaultClockSkew = time.Minute
	// MaxCookieSize is the largest cookie the middleware writes: its name
	// and value together, counted as browsers count them when they store a
	// cookie (Chromium and Firefox keep name + value up to 4096 bytes and
	// drop a larger cookie silently).
	MaxCookieSize = 4096
	// MaxCookieReadSize is the largest cookie (name and value) the
	// middleware reads. It is above MaxCookieSize because clients that are
	// not browsers keep what a peer wrote whatever its size (microdot and
	// Starlette write cookies of 4.5 KB and more when the session is
	// large); a session read from such a cookie that a handler changes
	// must then fit in MaxCookieSize to be written back.
	MaxCookieReadSize = 8192
	// MinKeyLength is the shortest SecretKey or FallbackKey New accepts.
	MinKeyLength = 32
	// MinKeyDistinctBytes is the fewest distinct byte values a key may
	// hold: 32 × "a" or 32 NUL bytes are not keys.
	MinKeyDistinctBytes = 10
	// MaxMaxAge is the longest MaxAge New accepts: 400 days, the longest
	// browsers keep a cookie (RFC 6265bis).
	MaxMaxAge = 400 * 24 * time.Hour
	// MaxClockSkew is the largest ClockSkew New accepts. Clocks further
	// apart than an hour need fixing, not tolerating.
	MaxClockSkew = time.Hour
)

// SessionConfig configures a Middleware. Only SecretKey is required; every
// other zero value means the default stated on the field. New validates the
// whole configuration and copies it, so changing a SessionConfig after New
// has no effect on the Middleware.
type SessionConfig struct {
	// SecretKey signs the session cookie. Required: New fails with
	// ErrNoSecretKey when it is empty and ErrWeakKey when it is shorter
	// than MinKeyLength bytes, holds fewer than MinKeyDistinctBytes
	// distinct bytes, or is a shorter unit repeated ("password" × 4).
	// `sessionctl keygen` prints a good one.
	SecretKey string
	// FallbackKeys are older keys, newest first: a cookie signed with one
	// of them is still accepted, and re-signed with SecretKey on the same
	// response, so a key can be retired once MaxAge has passed. They never
	// sign. Each must pass SecretKey's rules and differ from SecretKey.
	FallbackKeys []string

	// CookieName is the cookie's name. Default "session". A name starting
	// with "__Host-" (in any case, as browsers match it) makes New require
	// Secure, Path "/" and no Domain, which stops other subdomains from
	// planting a cookie of the same name (recommended in production).
	CookieName string
	// Format is the cookie format; the zero value is FormatItsdangerous.
	Format Format
	// Codec, when set, replaces Format with a codec of the caller's own.
	Codec Codec

	// MaxAge is the longest a session cookie stays valid after it was last
	// written. The server rejects an older signed timestamp, whatever the
	// browser sends; the cookie's Max-Age attribute is set to match.
	// Default 14 days; at most MaxMaxAge (400 days).
	MaxAge time.Duration
	// IdleTimeout, when positive, ends a session that sees no request for
	// that long. A session in use is re-signed (and its store record
	// extended) once a quarter of the window has passed since it was last
	// written, not on every request. Default 0: off. Must not exceed MaxAge.
	IdleTimeout time.Duration
	// AbsoluteTimeout, when positive, ends a session that long after it was
	// created or last logged in, however active it is. Default 0: off. It
	// is only compared with ages, never added to MaxAge, so any positive
	// value is safe.
	AbsoluteTimeout time.Duration
	// ClockSkew is how far in the future a signed timestamp may be (for
	// servers whose clocks disagree). Default one minute; negative means 0;
	// at most MaxClockSkew (one hour).
	ClockSkew time.Duration
	// BrowserSession leaves Max-Age off the cookie, so the browser drops it
	// when it closes. MaxAge still applies on the server.
	BrowserSession bool

	// Path is the cookie's Path. Default "/".
	Path string
	// Domain is the cookie's Domain. Default empty: the cookie goes to the
	// host that set it only, which is the safest choice. A public suffix
	// ("com", "co.uk", "github.io", by golang.org/x/net/publicsuffix) is
	// refused: browsers drop such a cookie.
	Domain string
	// Secure sends the cookie over HTTPS only. Default false so that plain
	// HTTP development works; set it in production (OWASP ASVS V3.4.1).
	Secure bool
	// ScriptReadable drops the HttpOnly attribute, letting JavaScript read
	// the cookie. Default false: the cookie is HttpOnly (OWASP ASVS V3.4.2).
	ScriptReadable bool
	// SameSite is the cookie's SameSite attribute. The zero value means
	// http.SameSiteLaxMode; http.SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// Partitioned sets the Partitioned attribute (CHIPS); requires Secure.
	Partitioned bool
	// RememberCookieName is the remember-me cookie Logout deletes, so that
	// the Python side cannot log the user back in from it. Default:
	// Flask-Login's "remember_token" (REMEMBER_COOKIE_NAME) for
	// FormatFlask, microdot.login's "_remember" for FormatJWT, none for the
	// other formats.
	RememberCookieName string
	// RememberCookiePath is the Path of the remember-me cookie
	// (Flask-Login's REMEMBER_COOKIE_PATH). Default "/".
	RememberCookiePath string

	// Store, when set, keeps session data on the server: the cookie then
	// carries only a signed random session id. Nil (the default) keeps the
	// data in the signed cookie itself.
	Store Store
	// RevocationStore, in cookie mode (Store nil), lets DestroyUser end a
	// user's outstanding signed cookies: each request of a logged-in user
	// then costs one lookup in it, and so does each Login of another user
	// than the session's. Default nil: cookies cannot be revoked.
	RevocationStore Store

	// OnLogin, when set, is called by Login and LoginKeep with the new
	// session (the user id set, the kept keys in it) before it replaces the
	// old one, to add what a peer needs in a login: Django's
	// "_auth_user_backend" and "_auth_user_hash" (see DjangoAuthHash), say.
	// If it returns an error, Login returns it and changes nothing: the old
	// session stays as it was. s is not yet the request's session, so
	// GetSession during OnLogin still returns the old one. Default nil.
	OnLogin func(ctx context.Context, s *Session, userID string) error

	// ErrorHandler writes the response when the session cannot be loaded or
	// saved (ErrStore, ErrCookieTooLarge, an unencodable value) and is told
	// about changes lost after the headers went out (ErrHeadersWritten; w
	// can no longer change the response then). The default logs the error
	// with Logger and, unless the headers were already written, replies 500
	// Internal Server Error.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives errors (level error) and the reasons cookies were
	// rejected (level debug). Default slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Default time.Now; tests set a clock.
	Now func() time.Time
}

// New validates cfg and returns a Middleware. Every configuration mistake is
// reported here, as an error matching ErrInvalidConfig: an empty or weak
// key (ErrWeakKey, naming the key), a cookie name, path or domain that
// net/http would drop or rewrite, a Domain that is a public suffix,
// SameSite=None or Partitioned without Secure, a "__Host-" or "__Secure-"
// name whose rules the other fields break, negative durations, a MaxAge
// over MaxMaxAge, a ClockSkew over MaxClockSkew, an IdleTimeout longer
// than MaxAge, or a RememberCookieName or RememberCookiePath net/http would
// not write as given.
func New(cfg SessionConfig) (*Middleware, error) {
	if cfg.SecretKey == "" {
		return nil, ErrNoSecretKey
	}
	keys := make([][]byte, 0, 1+len(cfg.FallbackKeys))
	if err := checkKey("SecretKey", cfg.SecretKey); err != nil {
		return nil, err
	}
	keys = append(keys, []byte(cfg.SecretKey))
	for i, k := range cfg.FallbackKeys {
		name := fmt.Sprintf("FallbackKeys[%d]", i)
		if err := checkKey(name, k); err != nil {
			return nil, err
		}
		if k == cfg.SecretKey {
			return nil, fmt.Errorf("%w: %s equals SecretKey; a fallback is an older key (a new one: sessionctl keygen)", ErrWeakKey, name)
		}
		keys = append(keys, []byte(k))
	}
	cfg.FallbackKeys = append([]string(nil), cfg.FallbackKeys...)

	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
	} else if cfg.ClockSkew < 0 {
		cfg.ClockSkew = 0
	}
	if cfg.SameSite == 0 {
		cfg.SameSite = http.SameSiteLaxMode
	}
	switch {
	case cfg.MaxAge < time.Second:
		return nil, configErr("MaxAge %v is below one second", cfg.MaxAge)
	case cfg.MaxAge > MaxMaxAge:
		return nil, configErr("MaxAge %v exceeds 400 days (MaxMaxAge), the longest browsers keep a cookie", cfg.MaxAge)
	case cfg.ClockSkew > MaxClockSkew:
		return nil, configErr("ClockSkew %v exceeds one hour (MaxClockSkew)", cfg.ClockSkew)
	case cfg.IdleTimeout < 0:
		return nil, configErr("IdleTimeout %v is negative", cfg.IdleTimeout)
	case cfg.AbsoluteTimeout < 0:
		return nil, configErr("AbsoluteTimeout %v is negative", cfg.AbsoluteTimeout)
	case cfg.IdleTimeout > cfg.MaxAge:
		return nil, configErr("IdleTimeout %v exceeds MaxAge %v", cfg.IdleTimeout, cfg.MaxAge)
	case cfg.SameSite < http.SameSiteDefaultMode || cfg.SameSite > http.SameSiteNoneMode:
		return nil, configErr("unknown SameSite value %d", cfg.SameSite)
	case cfg.SameSite == http.SameSiteNoneMode && !cfg.Secure:
		return nil, configErr("SameSite=None requires Secure (browsers reject it otherwise)")
	case cfg.Partitioned && !cfg.Secure:
		return nil, configErr("Partitioned requires Secure")
	case cfg.Store != nil && cfg.RevocationStore != nil:
		return nil, configErr("RevocationStore is for cookie mode; with a Store, DestroyUser deletes the records")
	}
	if err := checkCookieAttrs(cfg); err != nil {
		return nil, err
	}
	if err := checkRememberCookie(&cfg); err != nil {
		return nil, err
	}

	m := &Middleware{
		log: cfg.Logger,
		now: cfg.Now,
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	var err error
	m.codec, m.scheme, err = cfg.Format.build(keys, &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Codec != nil {
		m.codec = cfg.Codec
	}
	m.backend = cookieMode{m}
	if cfg.Store != nil {
		m.backend = newStoreMode(m, cfg.Store, keys, cfg.CookieName)
	}
	m.errHandler = cfg.ErrorHandler
	if m.errHandler == nil {
		m.errHandler = m.defaultErrorHandler
	}
	if cfg.IdleTimeout > 0 {
		m.refreshAge = cfg.IdleTimeout / 4
	}
	m.cookieTmpl = http.Cookie{
		Name:        cfg.CookieName,
		Path:        cfg.Path,
		Domain:      cfg.Domain,
		Secure:      cfg.Secure,
		HttpOnly:    !cfg.ScriptReadable,
		SameSite:    cfg.SameSite,
		Partitioned: cfg.Partitioned,
	}
	m.cookieLine = newCookieLine(m.cookieTmpl, !cfg.BrowserSession)
	m.cfg = cfg
	return m, nil
}

// checkCookieAttrs rejects names, paths and domains that net/http would drop
// or rewrite when writing the cookie, and the rules of cookie name prefixes.
func checkCookieAttrs(cfg SessionConfig) error {
	c := &http.Cookie{Name: cfg.CookieName, Value: "v", Path: cfg.Path, Domain: cfg.Domain}
	if err := c.Valid(); err != nil {
		return configErr("cookie: %v", err)
	}
	if !strings.HasPrefix(cfg.Path, "/") {
		return configErr("Path %q must start with '/'", cfg.Path)
	}
	for i := 0; i < len(cfg.Path); i++ {
		if b := cfg.Path[i]; b < 0x21 || b > 0x7e {
			return configErr("Path %q contains a space or control character", cfg.Path)
		}
	}
	// net/http drops a domain it cannot write, and cookie parsers drop a
	// path holding a double quote or a backslash; Valid reports most, and
	// writing and parsing back catches the rest.
	back, err := http.ParseSetCookie(c.String())
	if err != nil || back.Path != cfg.Path {
		return configErr("Path %q would not be read back as given", cfg.Path)
	}
	if cfg.Domain != "" && back.Domain != strings.TrimPrefix(cfg.Domain, ".") {
		return configErr("Domain %q would not be written as given", cfg.Domain)
	}
	if d := strings.ToLower(back.Domain); d != "" && net.ParseIP(d) == nil {
		// A cookie for a public suffix would go to every site under it;
		// browsers refuse it, so every session would silently break.
		if ps, _ := publicsuffix.PublicSuffix(d); ps == d {
			return configErr("Domain %q is a public suffix: use a domain you own (or leave Domain empty)", cfg.Domain)
		}
	}
	// Browsers match the prefixes case-insensitively (RFC 6265bis), so
	// "__host-" carries the same rules as "__Host-".
	switch {
	case hasPrefixFold(cfg.CookieName, "__Host-"):
		if !cfg.Secure || cfg.Path != "/" || cfg.Domain != "" {
			return configErr("a __Host- cookie needs Secure, Path \"/\" and no Domain")
		}
	case hasPrefixFold(cfg.CookieName, "__Secure-"):
		if !cfg.Secure {
			return configErr("a __Secure- cookie needs Secure")
		}
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// checkKey rejects key material that is short or has little variety: fewer
// than MinKeyLength bytes, fewer than MinKeyDistinctBytes distinct bytes, or
// a shorter unit repeated. name says which key it is.
func checkKey(name, k string) error {
	const fix = "make one with `sessionctl keygen`"
	if len(k) < MinKeyLength {
		return fmt.Errorf("%w: %s is shorter than %d bytes (%d); %s", ErrWeakKey, name, MinKeyLength, len(k), fix)
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(k); i++ {
		if !seen[k[i]] {
			seen[k[i]] = true
			distinct++
		}
	}
	if distinct < MinKeyDistinctBytes {
		return fmt.Errorf("%w: %s has only %d distinct bytes (at least %d needed); %s", ErrWeakKey, name, distinct, MinKeyDistinctBytes, fix)
	}
	// A key whose first len-p bytes equal its last len-p bytes, for some p
	// up to half its length, is a unit of p bytes repeated.
	for p := 1; p <= len(k)/2; p++ {
		if k[p:] == k[:len(k)-p] {
			return fmt.Errorf("%w: %s repeats a %d-byte unit; %s", ErrWeakKey, name, p, fix)
		}
	}
	return nil
}
