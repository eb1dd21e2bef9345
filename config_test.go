package sessions_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzConfig tries arbitrary cookie attributes: New either refuses them
// (an error matching ErrInvalidConfig) or the Set-Cookie line it writes
// reads back, through http.ParseSetCookie, exactly as configured.
func FuzzConfig(f *testing.F) {
	f.Add("session", "/", "", 0, false, false)
	f.Add("__Host-session", "/", "", int(http.SameSiteStrictMode), true, false)
	f.Add("__host-sid", "/", "example.test", 0, true, false)
	f.Add("__Secure-sid", "/app", ".example.test", int(http.SameSiteNoneMode), true, true)
	f.Add("sid", "/a;b", "example.test", int(http.SameSiteLaxMode), false, false)
	f.Add("s id", "/", "ex ample.test", 0, false, false)
	f.Add("sid\r\n", "/\r\nX: y", "example.test\n", 0, false, false)
	f.Add("sid", "/", "", int(http.SameSiteNoneMode), false, false)
	f.Add("sid", "/", "", int(http.SameSiteDefaultMode), false, true)
	f.Add("sid", "relative", "xn--bcher-kva.example", 7, true, false)
	f.Fuzz(func(t *testing.T, name, path, domain string, sameSite int, secure, partitioned bool) {
		cfg := sessions.SessionConfig{
			SecretKey: sessions.TestKey, CookieName: name, Path: path, Domain: domain,
			SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned,
			Now: func() time.Time { return sessions.TestStart },
		}
		m, err := sessions.New(cfg)
		if err != nil {
			if !errors.Is(err, sessions.ErrInvalidConfig) {
				t.Fatalf("New error %v does not match ErrInvalidConfig", err)
			}
			return
		}
		want := http.Cookie{Name: name, Path: path, Domain: strings.TrimPrefix(domain, "."), SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned, HttpOnly: true}
		if want.Name == "" {
			want.Name = sessions.DefaultCookieName
		}
		if want.Path == "" {
			want.Path = "/"
		}
		switch want.SameSite {
		case 0:
			want.SameSite = http.SameSiteLaxMode
		case http.SameSiteDefaultMode:
			want.SameSite = 0 // written as no attribute
		}
		if sessions.HasPrefixFold(want.Name, "__Host-") && (!secure || want.Path != "/" || domain != "") {
			t.Fatalf("New accepted a __Host- cookie with Secure %v, Path %q, Domain %q", secure, want.Path, domain)
		}
		if sessions.HasPrefixFold(want.Name, "__Secure-") && !secure {
			t.Fatal("New accepted a __Secure- cookie without Secure")
		}
		if want.SameSite == http.SameSiteNoneMode && !secure {
			t.Fatal("New accepted SameSite=None without Secure")
		}

		w := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			s.Set("k", "v")
		})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		lines := w.Result().Header.Values("Set-Cookie")
		if len(lines) != 1 {
			t.Fatalf("Set-Cookie lines %q, want one", lines)
		}
		if strings.ContainsAny(lines[0], "\r\n\x00") {
			t.Fatalf("Set-Cookie %q holds a control character", lines[0])
		}
		got, err := http.ParseSetCookie(lines[0])
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", lines[0], err)
		}
		if got.Name != want.Name || got.Path != want.Path || got.Domain != want.Domain ||
			got.SameSite != want.SameSite || got.Secure != want.Secure ||
			got.Partitioned != want.Partitioned || got.HttpOnly != want.HttpOnly {
			t.Fatalf("Set-Cookie %q reads back as\n %+v\nwant\n %+v", lines[0], got, want)
		}
		if got.String() != lines[0] {
			t.Fatalf("Set-Cookie %q does not survive a round trip: %q", lines[0], got.String())
		}
		if vals, err := m.Decode(context.Background(), got.Value); err != nil || vals["k"] != "v" {
			t.Fatalf("the written value does not decode: %v, %v", vals, err)
		}
	})
}

func TestNewConfigErrors(t *testing.T) {
	key := sessions.TestKey
	tests := []struct {
		name string
		cfg  sessions.SessionConfig
		want error
	}{
		{"negative MaxAge", sessions.SessionConfig{SecretKey: key, MaxAge: -time.Hour}, sessions.ErrInvalidConfig},
		{"MaxAge below a second", sessions.SessionConfig{SecretKey: key, MaxAge: time.Millisecond}, sessions.ErrInvalidConfig},
		{"negative IdleTimeout", sessions.SessionConfig{SecretKey: key, IdleTimeout: -time.Second}, sessions.ErrInvalidConfig},
		{"negative AbsoluteTimeout", sessions.SessionConfig{SecretKey: key, AbsoluteTimeout: -time.Second}, sessions.ErrInvalidConfig},
		{"IdleTimeout over MaxAge", sessions.SessionConfig{SecretKey: key, MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, sessions.ErrInvalidConfig},
		{"unknown Format", sessions.SessionConfig{SecretKey: key, Format: sessions.Format(99)}, sessions.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sessions.New(tt.cfg)
			assert.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, sessions.ErrInvalidConfig)
			assert.Nil(t, m)
		})
	}
	valid := []sessions.SessionConfig{
		{SecretKey: key, IdleTimeout: time.Hour, AbsoluteTimeout: 8 * time.Hour, ClockSkew: -1},
		{SecretKey: key, MaxAge: time.Second},
		{SecretKey: key, MaxAge: time.Hour, IdleTimeout: time.Hour},
	}
	for _, cfg := range valid {
		_, err := sessions.New(cfg)
		assert.NoError(t, err, "New(%+v)", cfg)
	}
}

func TestDefaultsAndConfigCopy(t *testing.T) {
	fallback := []string{sessions.TestOldKey}
	cfg := sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: fallback}
	m, err := sessions.New(cfg)
	require.NoError(t, err)
	// Changing the caller's config afterwards changes nothing.
	fallback[0] = "x"
	cfg.CookieName = "other"
	oldCookie, _ := sessions.EncodeAt(sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestOldKey}).M, map[string]any{"k": 1}, time.Now())
	_, err = m.Decode(context.Background(), oldCookie)
	assert.NoError(t, err, "the fallback key lost after the caller changed its slice")
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.MustSession(t, r).Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := testkit.SetCookie(t, rec.Header(), sessions.DefaultCookieName)
	require.NotNil(t, c, "no %q cookie in %q", sessions.DefaultCookieName, rec.Header().Values("Set-Cookie"))
	// Path=/ HttpOnly SameSite=Lax, not Secure, no Domain, Max-Age 14 days.
	assert.Equal(t, "/", c.Path)
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.False(t, c.Secure, "Secure")
	assert.Empty(t, c.Domain)
	assert.Equal(t, int(sessions.DefaultMaxAge/time.Second), c.MaxAge)
	assert.False(t, c.Partitioned, "Partitioned")
	e := sessions.NewEnv(t, sessions.SessionConfig{ScriptReadable: true, BrowserSession: true, SameSite: http.SameSiteStrictMode, Secure: true, Partitioned: true, CookieName: "__Host-sid"})
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) { sessions.MustSession(t, r).Set("k", 1) }, "")
	c = testkit.SetCookie(t, rec.Header(), "__Host-sid")
	require.NotNil(t, c)
	// Not HttpOnly, no Max-Age, Strict, Secure, Partitioned.
	assert.False(t, c.HttpOnly, "HttpOnly")
	assert.Zero(t, c.MaxAge)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.True(t, c.Secure, "Secure")
	assert.True(t, c.Partitioned, "Partitioned")
}

// Configuration injection: every attribute that reaches the Set-Cookie line
// is validated by New, so a configuration built from untrusted or careless
// input cannot add attributes, split headers or weaken a cookie prefix.
func TestSecurityConfigInjection(t *testing.T) {
	cases := []struct {
		name string
		cfg  sessions.SessionConfig
	}{
		{"name with ;", sessions.SessionConfig{CookieName: "session; Domain=evil.test"}},
		{"name with CR LF", sessions.SessionConfig{CookieName: "session\r\nSet-Cookie: x=y"}},
		{"name with LF", sessions.SessionConfig{CookieName: "session\n"}},
		{"name with space", sessions.SessionConfig{CookieName: "my session"}},
		{"name with tab", sessions.SessionConfig{CookieName: "my\tsession"}},
		{"name with =", sessions.SessionConfig{CookieName: "a=b"}},
		{"name with comma", sessions.SessionConfig{CookieName: "a,b"}},
		{"name with quote", sessions.SessionConfig{CookieName: `"session"`}},
		{"name with NUL", sessions.SessionConfig{CookieName: "session\x00"}},
		{"name non-ASCII", sessions.SessionConfig{CookieName: "séssion"}},
		{"path with ;", sessions.SessionConfig{Path: "/; Domain=evil.test"}},
		{"path with CR LF", sessions.SessionConfig{Path: "/\r\nSet-Cookie: x=y"}},
		{"path with space", sessions.SessionConfig{Path: "/my app"}},
		{"path with NUL", sessions.SessionConfig{Path: "/\x00"}},
		{"path with DEL", sessions.SessionConfig{Path: "/\x7f"}},
		{"path non-ASCII", sessions.SessionConfig{Path: "/é"}},
		{"relative path", sessions.SessionConfig{Path: "app"}},
		{"path with quote", sessions.SessionConfig{Path: `/"`}}, // parsers drop the attribute
		{"path with backslash", sessions.SessionConfig{Path: `/a\b`}},
		{"domain with ;", sessions.SessionConfig{Domain: "example.test; Secure"}},
		{"domain with CR LF", sessions.SessionConfig{Domain: "example.test\r\nSet-Cookie: x=y"}},
		{"domain with space", sessions.SessionConfig{Domain: "example .test"}},
		{"domain with slash", sessions.SessionConfig{Domain: "example.test/"}},
		{"domain with port", sessions.SessionConfig{Domain: "example.test:443"}},
		{"domain with NUL", sessions.SessionConfig{Domain: "example.test\x00"}},
		{"domain with empty label", sessions.SessionConfig{Domain: "example..test"}},
		{"SameSite=None without Secure", sessions.SessionConfig{SameSite: http.SameSiteNoneMode}},
		{"unknown SameSite", sessions.SessionConfig{SameSite: 99, Secure: true}},
		{"Partitioned without Secure", sessions.SessionConfig{Partitioned: true}},
		{"__Host- with Domain", sessions.SessionConfig{CookieName: "__Host-session", Secure: true, Domain: "example.test"}},
		{"__Host- without Secure", sessions.SessionConfig{CookieName: "__Host-session"}},
		{"__Host- with a Path", sessions.SessionConfig{CookieName: "__Host-session", Secure: true, Path: "/app"}},
		{"__host- with Domain", sessions.SessionConfig{CookieName: "__host-session", Secure: true, Domain: "example.test"}},
		{"__HOST- with Domain", sessions.SessionConfig{CookieName: "__HOST-session", Secure: true, Domain: "example.test"}},
		{"__hOsT- without Secure", sessions.SessionConfig{CookieName: "__hOsT-session"}},
		{"__Secure- without Secure", sessions.SessionConfig{CookieName: "__Secure-session"}},
		{"__secure- without Secure", sessions.SessionConfig{CookieName: "__secure-session"}},
		{"__SECURE- without Secure", sessions.SessionConfig{CookieName: "__SECURE-session"}},
	}
	for _, c := range cases {
		c.cfg.SecretKey = sessions.TestKey
		m, err := sessions.New(c.cfg)
		assert.ErrorIs(t, err, sessions.ErrInvalidConfig, c.name)
		assert.Nil(t, m, c.name)
	}

	// The safe versions of the same settings are accepted and written as
	// given.
	good := []sessions.SessionConfig{
		{},
		{CookieName: "__Host-session", Secure: true},
		{CookieName: "__host-session", Secure: true, Path: "/"},
		{CookieName: "__Secure-session", Secure: true, Domain: "example.test", Path: "/app"},
		{SameSite: http.SameSiteNoneMode, Secure: true, Partitioned: true},
		{Domain: "example.test", Path: "/my-app/v1"},
		{Domain: ".example.test"},
		{SameSite: http.SameSiteStrictMode, Domain: ".example.test"},
	}
	for _, cfg := range good {
		e := sessions.NewEnv(t, cfg)
		w := e.VisitLines(func(_ *http.Request, s *sessions.Session) { s.Set("k", "v") }).Rec
		lines := w.Result().Header.Values("Set-Cookie")
		require.Len(t, lines, 1, "%+v: Set-Cookie lines", cfg)
		c, err := http.ParseSetCookie(lines[0])
		require.NoError(t, err, "%+v: ParseSetCookie(%q)", cfg, lines[0])
		wantName := cfg.CookieName
		if wantName == "" {
			wantName = sessions.DefaultCookieName
		}
		assert.Equal(t, wantName, c.Name, "%+v: %q", cfg, lines[0])
		assert.Equal(t, cfg.Secure, c.Secure, "%+v: %q", cfg, lines[0])
		assert.True(t, c.HttpOnly, "%+v: %q", cfg, lines[0])
		assert.Equal(t, cfg.Partitioned, c.Partitioned, "%+v: %q", cfg, lines[0])
	}
}

// verifiesWith reports which of the given keys alone verify a cookie of
// cfg's shape (cookie or store mode), by sending it to a Middleware that
// has only that key.
func verifiesWith(t *testing.T, cfg sessions.SessionConfig, cookie string, keys ...string) []string {
	t.Helper()
	name := cfg.CookieName
	if name == "" {
		name = sessions.DefaultCookieName
	}
	var ok []string
	for _, k := range keys {
		c := cfg
		c.SecretKey, c.FallbackKeys = k, nil
		if seen := sessions.NewEnv(t, c).Load(name + "=" + cookie); seen.UserID == "alice" {
			ok = append(ok, k)
		}
	}
	return ok
}

func TestSecurityKeysFallbackAcceptedAndResigned(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			base := sessions.SessionConfig{CookieName: "session"}
			if mode == "store" {
				base.Store = faultstore.NewMem(t)
			}
			oldCfg := base
			oldCfg.SecretKey = sessions.TestOldKey
			old := sessions.NewEnv(t, oldCfg).Issue("alice", nil)

			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = sessions.TestKey, []string{sessions.TestOtherKey, sessions.TestOldKey}
			e := sessions.NewEnv(t, cfg)
			v := e.Visit(old, nil)
			require.Equal(t, "alice", v.Seen.UserID, "a cookie signed with a fallback key")
			fresh := v.Cookie
			require.NotEmpty(t, fresh, "a cookie signed with a fallback key was not re-signed on the same response")
			assert.Equal(t, []string{sessions.TestKey}, verifiesWith(t, base, fresh, sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey),
				"the keys the re-signed cookie verifies with")
			// A current cookie is not re-signed on a read.
			v = e.MustVisit(fresh, nil)
			assert.Equal(t, "alice", v.Seen.UserID, "a current cookie on a read")
			assert.Empty(t, v.Rec.Header().Values("Set-Cookie"), "a current cookie on a read")
			// A fallback cookie past MaxAge is not rescued by the fallback.
			e.Clock.Add(sessions.DefaultMaxAge + time.Second)
			v = e.MustVisit(old, nil)
			assert.Empty(t, v.Seen.UserID, "an expired fallback cookie")
			assert.Empty(t, v.Cookie, "an expired fallback cookie")
		})
	}
}

// Flask 3.1.0 (CVE-2025-47278) signed with the last fallback key instead of
// the current one. Every cookie the middleware emits must verify with
// SecretKey alone and with no fallback key.
func TestSecurityKeysSigningNeverUsesFallback(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			base := sessions.SessionConfig{}
			if mode == "store" {
				base.Store = faultstore.NewMem(t)
			}
			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = sessions.TestKey, []string{sessions.TestOtherKey, sessions.TestOldKey}
			e := sessions.NewEnv(t, cfg)
			check := func(what, c string) {
				t.Helper()
				assert.Equal(t, []string{sessions.TestKey}, verifiesWith(t, base, c, sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey),
					"the keys the %s cookie verifies with", what)
			}
			fresh := e.Issue("alice", nil)
			check("new", fresh)
			changed := e.Issue("", map[string]any{"x": 1}, "session="+fresh)
			check("changed", changed)
			relogged := e.Issue("alice", nil, "session="+changed)
			check("regenerated", relogged)
			if mode == "cookie" {
				minted, err := e.M.Encode(map[string]any{"k": "v"})
				require.NoError(t, err)
				for _, k := range []string{sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey} {
					_, err := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: k}).M.Decode(context.Background(), minted)
					if k == sessions.TestKey {
						assert.NoError(t, err, "Encode output, key %.20s...", k)
					} else {
						assert.ErrorIs(t, err, sessions.ErrBadSignature, "Encode output, key %.20s...", k)
					}
				}
			}
		})
	}
}

func TestSecurityKeysRetiredKeyRejected(t *testing.T) {
	old := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestOldKey}).Issue("alice", nil)
	// During rotation it is accepted...
	rotating := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestOldKey}})
	require.Equal(t, "alice", rotating.Load("session="+old).UserID, "during rotation")
	// ...and once the key is dropped, rejected.
	retired := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestOtherKey}})
	assert.Empty(t, retired.Load("session="+old).UserID, "a retired key")
	_, err := retired.M.Decode(context.Background(), old)
	assert.ErrorIs(t, err, sessions.ErrBadSignature, "Decode with a retired key")
}

func TestSecurityKeysWeakOrEmptyRefused(t *testing.T) {
	short := strings.Repeat("k", sessions.MinKeyLength-1)
	cases := []struct {
		name string
		cfg  sessions.SessionConfig
		want error
	}{
		{"empty", sessions.SessionConfig{}, sessions.ErrNoSecretKey},
		{"one byte", sessions.SessionConfig{SecretKey: "k"}, sessions.ErrWeakKey},
		{"one byte short", sessions.SessionConfig{SecretKey: short}, sessions.ErrWeakKey},
		{"empty fallback", sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{""}}, sessions.ErrWeakKey},
		{"short fallback", sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestOldKey, short}}, sessions.ErrWeakKey},
		{"store mode, empty", sessions.SessionConfig{Store: faultstore.NewMem(t)}, sessions.ErrNoSecretKey},
	}
	for _, c := range cases {
		m, err := sessions.New(c.cfg)
		assert.ErrorIs(t, err, c.want, c.name)
		assert.ErrorIs(t, err, sessions.ErrInvalidConfig, c.name)
		assert.Nil(t, m, c.name)
	}
	_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey[:sessions.MinKeyLength]})
	assert.NoError(t, err, "New with a %d-byte key", sessions.MinKeyLength)
}

func TestRevocationStoreWithStoreIsAConfigError(t *testing.T) {
	st := faultstore.NewMem(t)
	_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Store: st, RevocationStore: st})
	assert.ErrorIs(t, err, sessions.ErrInvalidConfig)
}

// TestSecurityDurationsBounded: New refuses a MaxAge above 400 days and a
// ClockSkew above one hour (durations that overflowed when added: the
// revocation record was born expired, Max-Age became 1), naming the field,
// and accepts both at the bound.
func TestSecurityDurationsBounded(t *testing.T) {
	day := 24 * time.Hour
	refused := []struct {
		name  string
		cfg   sessions.SessionConfig
		field string
	}{
		{"MaxAge max int64", sessions.SessionConfig{MaxAge: math.MaxInt64}, "MaxAge"},
		{"MaxAge 200 years", sessions.SessionConfig{MaxAge: 200 * 365 * day}, "MaxAge"},
		{"MaxAge 400 days + 1ns", sessions.SessionConfig{MaxAge: 400*day + 1}, "MaxAge"},
		{"ClockSkew max int64", sessions.SessionConfig{ClockSkew: math.MaxInt64}, "ClockSkew"},
		{"ClockSkew 100 years", sessions.SessionConfig{ClockSkew: 100 * 365 * day}, "ClockSkew"},
		{"ClockSkew 1h + 1ns", sessions.SessionConfig{ClockSkew: time.Hour + 1}, "ClockSkew"},
	}
	for _, tt := range refused {
		tt.cfg.SecretKey = sessions.TestKey
		_, err := sessions.New(tt.cfg)
		require.ErrorIs(t, err, sessions.ErrInvalidConfig, tt.name)
		assert.Contains(t, err.Error(), tt.field, tt.name)
	}
	accepted := []sessions.SessionConfig{
		{MaxAge: 400 * day},
		{MaxAge: 400 * day, ClockSkew: time.Hour, IdleTimeout: 400 * day},
		{AbsoluteTimeout: math.MaxInt64},
		{MaxAge: 400 * day, ClockSkew: time.Hour, AbsoluteTimeout: math.MaxInt64},
	}
	for _, cfg := range accepted {
		cfg.SecretKey = sessions.TestKey
		_, err := sessions.New(cfg)
		require.NoError(t, err, "%+v", cfg)
	}
}

// TestSecurityConfigDomainPublicSuffix: a public suffix as Domain is
// refused, with the Domain named; a registrable domain under one is not.
func TestSecurityConfigDomainPublicSuffix(t *testing.T) {
	for _, d := range []string{"com", ".com", "COM", "co.uk", ".co.uk", "github.io", "localhost"} {
		_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Domain: d})
		require.ErrorIs(t, err, sessions.ErrInvalidConfig, "Domain %q", d)
		assert.Contains(t, err.Error(), strconv.Quote(d))
		assert.Contains(t, err.Error(), "public suffix")
	}
	for _, d := range []string{"example.com", ".example.com", "example.co.uk", "app.github.io", "example.test", "127.0.0.1"} {
		_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Domain: d})
		require.NoError(t, err, "Domain %q", d)
	}
}

// TestSecurityKeysWeakMaterialRefused: keys with little variety are
// refused with ErrWeakKey, naming the key and `sessionctl keygen`; so is a
// fallback equal to SecretKey.
func TestSecurityKeysWeakMaterialRefused(t *testing.T) {
	weak := []string{
		strings.Repeat("a", 32),
		strings.Repeat("\x00", 32),
		strings.Repeat("password", 4),
		strings.Repeat("0123456789abcdef", 2), // 16 distinct bytes, repeated
		strings.Repeat("abcdefghi", 4),        // 9 distinct bytes
		"00112233445566778801234567876543210", // 9 distinct bytes, no repetition
		strings.Repeat("password", 4) + "pa",  // a unit repeated, cut short
		"short",
	}
	for _, k := range weak {
		_, err := sessions.New(sessions.SessionConfig{SecretKey: k})
		require.ErrorIs(t, err, sessions.ErrWeakKey, "SecretKey %q", k)
		require.ErrorIs(t, err, sessions.ErrInvalidConfig)
		assert.Contains(t, err.Error(), "SecretKey")
		assert.Contains(t, err.Error(), "sessionctl keygen")

		_, err = sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestOldKey, k}})
		require.ErrorIs(t, err, sessions.ErrWeakKey, "fallback %q", k)
		assert.Contains(t, err.Error(), "FallbackKeys[1]")
		assert.Contains(t, err.Error(), "sessionctl keygen")
	}
	_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestKey}})
	require.ErrorIs(t, err, sessions.ErrWeakKey)
	assert.Contains(t, err.Error(), "FallbackKeys[0] equals SecretKey")

	// Ten distinct bytes, no repetition: enough.
	_, err = sessions.New(sessions.SessionConfig{SecretKey: "0123456789" + strings.Repeat("9", 21) + "0"})
	require.NoError(t, err)
}

func TestRememberCookieConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  sessions.SessionConfig
		want string
	}{
		{sessions.SessionConfig{RememberCookieName: "bad name"}, "RememberCookieName"},
		{sessions.SessionConfig{RememberCookieName: "session"}, "RememberCookieName"},
		{sessions.SessionConfig{Format: sessions.FormatFlask, RememberCookiePath: "no-slash"}, "RememberCookiePath"},
		{sessions.SessionConfig{Format: sessions.FormatFlask, RememberCookiePath: "/a;b"}, "RememberCookiePath"},
	} {
		tt.cfg.SecretKey = sessions.TestKey
		_, err := sessions.New(tt.cfg)
		require.ErrorIs(t, err, sessions.ErrInvalidConfig, "%+v", tt.cfg)
		assert.ErrorContains(t, err, tt.want)
	}
}

// An OnLogin error fails the Login and changes nothing, in either mode: the
// old session is still the request's and the store record still exists.
func TestOnLoginErrorChangesNothing(t *testing.T) {
	boom := errors.New("no password hash")
	store := memstore.New()
	defer store.Close()
	for _, st := range []sessions.Store{nil, store} {
		e := sessions.NewEnv(t, sessions.SessionConfig{Store: st,
			OnLogin: func(context.Context, *sessions.Session, string) error { return boom }})
		old := e.Issue("", map[string]any{"cart": "apple"})
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
			err := sessions.Login(r.Context(), "42")
			require.ErrorIs(t, err, boom)
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			v, _ := s.Get("cart")
			assert.Equal(t, "apple", v, "the old session is untouched")
			assert.Empty(t, s.UserID())
			w.WriteHeader(http.StatusUnauthorized)
		}, old)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "the handler answers; no error reply")
		assert.Nil(t, testkit.SetCookie(t, rec.Header(), "session"), "no new cookie")
		values, err := e.M.Decode(t.Context(), old)
		if st == nil {
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"cart": "apple"}, values)
		}
		again := e.Do(func(_ http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			v, _ := s.Get("cart")
			assert.Equal(t, "apple", v, "store %v: the old session still loads", st != nil)
		}, old)
		assert.Equal(t, http.StatusOK, again.Code)
	}
}
