package sessions_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
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
			if m != nil || !errors.Is(err, tt.want) || !errors.Is(err, sessions.ErrInvalidConfig) {
				t.Errorf("New: %v, %v; want nil and an error matching %v and ErrInvalidConfig", m, err, tt.want)
			}
		})
	}
	valid := []sessions.SessionConfig{
		{SecretKey: key, IdleTimeout: time.Hour, AbsoluteTimeout: 8 * time.Hour, ClockSkew: -1},
		{SecretKey: key, MaxAge: time.Second},
		{SecretKey: key, MaxAge: time.Hour, IdleTimeout: time.Hour},
	}
	for _, cfg := range valid {
		if _, err := sessions.New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestDefaultsAndConfigCopy(t *testing.T) {
	fallback := []string{sessions.TestOldKey}
	cfg := sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: fallback}
	m, err := sessions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Changing the caller's config afterwards changes nothing.
	fallback[0] = "x"
	cfg.CookieName = "other"
	oldCookie, _ := sessions.EncodeAt(sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestOldKey}).M, map[string]any{"k": 1}, time.Now())
	if _, err := m.Decode(context.Background(), oldCookie); err != nil {
		t.Errorf("fallback key lost after the caller changed its slice: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.MustSession(t, r).Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := testkit.SetCookie(t, rec.Header(), sessions.DefaultCookieName)
	if c == nil {
		t.Fatalf("no %q cookie in %q", sessions.DefaultCookieName, rec.Header().Values("Set-Cookie"))
	}
	if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "" ||
		c.MaxAge != int(sessions.DefaultMaxAge/time.Second) || c.Partitioned {
		t.Errorf("default cookie %+v: want Path=/ HttpOnly SameSite=Lax, not Secure, no Domain, Max-Age 14 days", c)
	}
	e := sessions.NewEnv(t, sessions.SessionConfig{ScriptReadable: true, BrowserSession: true, SameSite: http.SameSiteStrictMode, Secure: true, Partitioned: true, CookieName: "__Host-sid"})
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) { sessions.MustSession(t, r).Set("k", 1) }, "")
	c = testkit.SetCookie(t, rec.Header(), "__Host-sid")
	if c == nil || c.HttpOnly || c.MaxAge != 0 || c.SameSite != http.SameSiteStrictMode || !c.Secure || !c.Partitioned {
		t.Errorf("configured cookie %+v: want not HttpOnly, no Max-Age, Strict, Secure, Partitioned", c)
	}
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
		if m != nil || !errors.Is(err, sessions.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want an error matching ErrInvalidConfig", c.name, m, err)
		}
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
		if len(lines) != 1 {
			t.Fatalf("%+v: Set-Cookie %q, want one line", cfg, lines)
		}
		c, err := http.ParseSetCookie(lines[0])
		if err != nil {
			t.Fatalf("%+v: ParseSetCookie(%q): %v", cfg, lines[0], err)
		}
		wantName := cfg.CookieName
		if wantName == "" {
			wantName = sessions.DefaultCookieName
		}
		if c.Name != wantName || c.Secure != cfg.Secure || !c.HttpOnly || c.Partitioned != cfg.Partitioned {
			t.Errorf("%+v: cookie %q read back as %+v", cfg, lines[0], c)
		}
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
			if seen := v.Seen; seen.UserID != "alice" {
				t.Fatalf("cookie signed with a fallback key: user %q, want alice", seen.UserID)
			}
			fresh := v.Cookie
			if fresh == "" {
				t.Fatal("a cookie signed with a fallback key was not re-signed on the same response")
			}
			if got := verifiesWith(t, base, fresh, sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey); len(got) != 1 || got[0] != sessions.TestKey {
				t.Errorf("re-signed cookie verifies with %d keys (%v), want SecretKey only", len(got), got)
			}
			// A current cookie is not re-signed on a read.
			if v := e.MustVisit(fresh, nil); v.Seen.UserID != "alice" || v.Cookie != "" || v.Deleted {
				t.Errorf("current cookie on a read: user %q, Set-Cookie %q", v.Seen.UserID, v.Rec.Header().Values("Set-Cookie"))
			}
			// A fallback cookie past MaxAge is not rescued by the fallback.
			e.Clock.Add(sessions.DefaultMaxAge + time.Second)
			if v := e.MustVisit(old, nil); v.Seen.UserID != "" || v.Cookie != "" {
				t.Errorf("expired fallback cookie: user %q, Set-Cookie %q", v.Seen.UserID, v.Rec.Header().Values("Set-Cookie"))
			}
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
				if got := verifiesWith(t, base, c, sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey); len(got) != 1 || got[0] != sessions.TestKey {
					t.Errorf("%s cookie verifies with %d keys (%v), want SecretKey only", what, len(got), got)
				}
			}
			fresh := e.Issue("alice", nil)
			check("new", fresh)
			changed := e.Issue("", map[string]any{"x": 1}, "session="+fresh)
			check("changed", changed)
			relogged := e.Issue("alice", nil, "session="+changed)
			check("regenerated", relogged)
			if mode == "cookie" {
				minted, err := e.M.Encode(map[string]any{"k": "v"})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{sessions.TestKey, sessions.TestOtherKey, sessions.TestOldKey} {
					_, err := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: k}).M.Decode(context.Background(), minted)
					if (err == nil) != (k == sessions.TestKey) {
						t.Errorf("Encode output, key %.20s...: Decode err = %v", k, err)
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
	if seen := rotating.Load("session=" + old); seen.UserID != "alice" {
		t.Fatalf("during rotation: user %q, want alice", seen.UserID)
	}
	// ...and once the key is dropped, rejected.
	retired := sessions.NewEnv(t, sessions.SessionConfig{SecretKey: sessions.TestKey, FallbackKeys: []string{sessions.TestOtherKey}})
	if seen := retired.Load("session=" + old); seen.UserID != "" {
		t.Errorf("retired key: user %q, want none", seen.UserID)
	}
	if _, err := retired.M.Decode(context.Background(), old); !errors.Is(err, sessions.ErrBadSignature) {
		t.Errorf("Decode with a retired key = %v, want ErrBadSignature", err)
	}
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
		if m != nil || !errors.Is(err, c.want) || !errors.Is(err, sessions.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want nil, %v (matching ErrInvalidConfig)", c.name, m, err, c.want)
		}
	}
	if _, err := sessions.New(sessions.SessionConfig{SecretKey: strings.Repeat("k", sessions.MinKeyLength)}); err != nil {
		t.Errorf("New with a %d-byte key: %v", sessions.MinKeyLength, err)
	}
}

func TestRevocationStoreWithStoreIsAConfigError(t *testing.T) {
	st := faultstore.NewMem(t)
	_, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Store: st, RevocationStore: st})
	if !errors.Is(err, sessions.ErrInvalidConfig) {
		t.Errorf("New = %v, want ErrInvalidConfig", err)
	}
}
