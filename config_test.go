package sessions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
		cfg := SessionConfig{
			SecretKey: secKey, CookieName: name, Path: path, Domain: domain,
			SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned,
			Now: func() time.Time { return secT0 },
		}
		m, err := New(cfg)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New error %v does not match ErrInvalidConfig", err)
			}
			return
		}
		want := http.Cookie{Name: name, Path: path, Domain: strings.TrimPrefix(domain, "."), SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned, HttpOnly: true}
		if want.Name == "" {
			want.Name = DefaultCookieName
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
		if hasPrefixFold(want.Name, "__Host-") && (!secure || want.Path != "/" || domain != "") {
			t.Fatalf("New accepted a __Host- cookie with Secure %v, Path %q, Domain %q", secure, want.Path, domain)
		}
		if hasPrefixFold(want.Name, "__Secure-") && !secure {
			t.Fatal("New accepted a __Secure- cookie without Secure")
		}
		if want.SameSite == http.SameSiteNoneMode && !secure {
			t.Fatal("New accepted SameSite=None without Secure")
		}

		w := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := GetSession(r.Context())
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

func TestKeyRotation(t *testing.T) {
	old := mwNew(t, SessionConfig{SecretKey: mwOldKey})
	rotated := mwNew(t, SessionConfig{SecretKey: mwKey, FallbackKeys: []string{mwOtherKey, mwOldKey}})
	current := mwNew(t, SessionConfig{SecretKey: mwKey})
	cookie := old.mint(map[string]any{"k": "v"})

	var got string
	rec := rotated.do(func(w http.ResponseWriter, r *http.Request) {
		got, _ = GetAs[string](mwGetSession(t, r), "k")
	}, cookie)
	if got != "v" {
		t.Fatalf("cookie signed with a fallback key: k = %q, want v", got)
	}
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("cookie accepted through a fallback key was not re-signed")
	}
	if v, err := current.m.Decode(context.Background(), c.Value); err != nil || v["k"] != "v" {
		t.Errorf("re-signed cookie under the current key alone: %v, %v", v, err)
	}
	for _, m := range []*Middleware{old.m, mwNew(t, SessionConfig{SecretKey: mwOtherKey}).m} {
		if _, err := m.Decode(context.Background(), c.Value); !errors.Is(err, ErrBadSignature) {
			t.Errorf("re-signed cookie verifies under a fallback key: %v", err)
		}
	}
	// Written by the rotated middleware for a change: signed with SecretKey.
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("x", 1) }, "")
	if c := mwSessionCookie(t, rec.Header(), "session"); c == nil {
		t.Error("no cookie")
	} else if _, err := current.m.Decode(context.Background(), c.Value); err != nil {
		t.Errorf("new cookie not signed with SecretKey: %v", err)
	}
	// A current cookie is not re-signed on a read.
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Get("k") }, current.mint(map[string]any{"k": "v"}))
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("current cookie re-signed: %q", got)
	}
	// A fallback cookie past MaxAge is not rescued by the fallback.
	rotated.clock.Add(DefaultMaxAge + time.Second)
	rec = rotated.do(func(w http.ResponseWriter, r *http.Request) { got, _ = GetAs[string](mwGetSession(t, r), "k") }, cookie)
	if got != "" || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("expired fallback cookie: k = %q, Set-Cookie %q", got, rec.Header().Values("Set-Cookie"))
	}
}

func TestNewConfigErrors(t *testing.T) {
	key := mwKey
	tests := []struct {
		name string
		cfg  SessionConfig
		want error
	}{
		{"empty key", SessionConfig{}, ErrNoSecretKey},
		{"short key", SessionConfig{SecretKey: strings.Repeat("k", MinKeyLength-1)}, ErrWeakKey},
		{"short fallback key", SessionConfig{SecretKey: key, FallbackKeys: []string{"old"}}, ErrWeakKey},
		{"empty fallback key", SessionConfig{SecretKey: key, FallbackKeys: []string{""}}, ErrWeakKey},
		{"name with space", SessionConfig{SecretKey: key, CookieName: "my session"}, ErrInvalidConfig},
		{"name with =", SessionConfig{SecretKey: key, CookieName: "a=b"}, ErrInvalidConfig},
		{"name with ;", SessionConfig{SecretKey: key, CookieName: "a;b"}, ErrInvalidConfig},
		{"non-ASCII name", SessionConfig{SecretKey: key, CookieName: "sessión"}, ErrInvalidConfig},
		{"relative path", SessionConfig{SecretKey: key, Path: "app"}, ErrInvalidConfig},
		{"path with ;", SessionConfig{SecretKey: key, Path: "/a;b"}, ErrInvalidConfig},
		{"path with space", SessionConfig{SecretKey: key, Path: "/a b"}, ErrInvalidConfig},
		{"path with control", SessionConfig{SecretKey: key, Path: "/a\x7f"}, ErrInvalidConfig},
		{"domain with space", SessionConfig{SecretKey: key, Domain: "exa mple.com"}, ErrInvalidConfig},
		{"domain with port", SessionConfig{SecretKey: key, Domain: "example.com:80"}, ErrInvalidConfig},
		{"domain with empty label", SessionConfig{SecretKey: key, Domain: "example..com"}, ErrInvalidConfig},
		{"domain with ;", SessionConfig{SecretKey: key, Domain: "a;b.com"}, ErrInvalidConfig},
		{"SameSite=None without Secure", SessionConfig{SecretKey: key, SameSite: http.SameSiteNoneMode}, ErrInvalidConfig},
		{"unknown SameSite", SessionConfig{SecretKey: key, SameSite: http.SameSite(9)}, ErrInvalidConfig},
		{"Partitioned without Secure", SessionConfig{SecretKey: key, Partitioned: true}, ErrInvalidConfig},
		{"__Host- without Secure", SessionConfig{SecretKey: key, CookieName: "__Host-s"}, ErrInvalidConfig},
		{"__Host- with Path", SessionConfig{SecretKey: key, CookieName: "__Host-s", Secure: true, Path: "/app"}, ErrInvalidConfig},
		{"__Host- with Domain", SessionConfig{SecretKey: key, CookieName: "__Host-s", Secure: true, Domain: "example.com"}, ErrInvalidConfig},
		{"__Secure- without Secure", SessionConfig{SecretKey: key, CookieName: "__Secure-s"}, ErrInvalidConfig},
		{"negative MaxAge", SessionConfig{SecretKey: key, MaxAge: -time.Hour}, ErrInvalidConfig},
		{"MaxAge below a second", SessionConfig{SecretKey: key, MaxAge: time.Millisecond}, ErrInvalidConfig},
		{"negative IdleTimeout", SessionConfig{SecretKey: key, IdleTimeout: -time.Second}, ErrInvalidConfig},
		{"negative AbsoluteTimeout", SessionConfig{SecretKey: key, AbsoluteTimeout: -time.Second}, ErrInvalidConfig},
		{"IdleTimeout over MaxAge", SessionConfig{SecretKey: key, MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, ErrInvalidConfig},
		{"unknown Format", SessionConfig{SecretKey: key, Format: Format(99)}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if m != nil || !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New: %v, %v; want nil and an error matching %v and ErrInvalidConfig", m, err, tt.want)
			}
		})
	}
	valid := []SessionConfig{
		{SecretKey: key},
		{SecretKey: key, CookieName: "__Host-s", Secure: true},
		{SecretKey: key, CookieName: "__Secure-s", Secure: true, Domain: "example.com", Path: "/app"},
		{SecretKey: key, SameSite: http.SameSiteNoneMode, Secure: true, Partitioned: true},
		{SecretKey: key, SameSite: http.SameSiteStrictMode, Domain: ".example.com"},
		{SecretKey: key, IdleTimeout: time.Hour, AbsoluteTimeout: 8 * time.Hour, ClockSkew: -1},
	}
	for _, cfg := range valid {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestDefaultsAndConfigCopy(t *testing.T) {
	fallback := []string{mwOldKey}
	cfg := SessionConfig{SecretKey: mwKey, FallbackKeys: fallback}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Changing the caller's config afterwards changes nothing.
	fallback[0] = "x"
	cfg.CookieName = "other"
	oldCookie, _ := encodeAt(mwNew(t, SessionConfig{SecretKey: mwOldKey}).m, map[string]any{"k": 1}, time.Now())
	if _, err := m.Decode(context.Background(), oldCookie); err != nil {
		t.Errorf("fallback key lost after the caller changed its slice: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mwGetSession(t, r).Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := mwSessionCookie(t, rec.Header(), DefaultCookieName)
	if c == nil {
		t.Fatalf("no %q cookie in %q", DefaultCookieName, rec.Header().Values("Set-Cookie"))
	}
	if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "" ||
		c.MaxAge != int(DefaultMaxAge/time.Second) || c.Partitioned {
		t.Errorf("default cookie %+v: want Path=/ HttpOnly SameSite=Lax, not Secure, no Domain, Max-Age 14 days", c)
	}
	e := mwNew(t, SessionConfig{ScriptReadable: true, BrowserSession: true, SameSite: http.SameSiteStrictMode, Secure: true, Partitioned: true, CookieName: "__Host-sid"})
	rec = e.do(func(w http.ResponseWriter, r *http.Request) { mwGetSession(t, r).Set("k", 1) }, "")
	c = mwSessionCookie(t, rec.Header(), "__Host-sid")
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
		cfg  SessionConfig
	}{
		{"name with ;", SessionConfig{CookieName: "session; Domain=evil.test"}},
		{"name with CR LF", SessionConfig{CookieName: "session\r\nSet-Cookie: x=y"}},
		{"name with LF", SessionConfig{CookieName: "session\n"}},
		{"name with space", SessionConfig{CookieName: "my session"}},
		{"name with tab", SessionConfig{CookieName: "my\tsession"}},
		{"name with =", SessionConfig{CookieName: "a=b"}},
		{"name with comma", SessionConfig{CookieName: "a,b"}},
		{"name with quote", SessionConfig{CookieName: `"session"`}},
		{"name with NUL", SessionConfig{CookieName: "session\x00"}},
		{"name non-ASCII", SessionConfig{CookieName: "séssion"}},
		{"path with ;", SessionConfig{Path: "/; Domain=evil.test"}},
		{"path with CR LF", SessionConfig{Path: "/\r\nSet-Cookie: x=y"}},
		{"path with space", SessionConfig{Path: "/my app"}},
		{"path with NUL", SessionConfig{Path: "/\x00"}},
		{"path with DEL", SessionConfig{Path: "/\x7f"}},
		{"path non-ASCII", SessionConfig{Path: "/é"}},
		{"relative path", SessionConfig{Path: "app"}},
		{"path with quote", SessionConfig{Path: `/"`}}, // parsers drop the attribute
		{"path with backslash", SessionConfig{Path: `/a\b`}},
		{"domain with ;", SessionConfig{Domain: "example.test; Secure"}},
		{"domain with CR LF", SessionConfig{Domain: "example.test\r\nSet-Cookie: x=y"}},
		{"domain with space", SessionConfig{Domain: "example .test"}},
		{"domain with slash", SessionConfig{Domain: "example.test/"}},
		{"domain with port", SessionConfig{Domain: "example.test:443"}},
		{"domain with NUL", SessionConfig{Domain: "example.test\x00"}},
		{"SameSite=None without Secure", SessionConfig{SameSite: http.SameSiteNoneMode}},
		{"unknown SameSite", SessionConfig{SameSite: 99, Secure: true}},
		{"Partitioned without Secure", SessionConfig{Partitioned: true}},
		{"__Host- with Domain", SessionConfig{CookieName: "__Host-session", Secure: true, Domain: "example.test"}},
		{"__Host- without Secure", SessionConfig{CookieName: "__Host-session"}},
		{"__Host- with a Path", SessionConfig{CookieName: "__Host-session", Secure: true, Path: "/app"}},
		{"__host- with Domain", SessionConfig{CookieName: "__host-session", Secure: true, Domain: "example.test"}},
		{"__HOST- with Domain", SessionConfig{CookieName: "__HOST-session", Secure: true, Domain: "example.test"}},
		{"__hOsT- without Secure", SessionConfig{CookieName: "__hOsT-session"}},
		{"__Secure- without Secure", SessionConfig{CookieName: "__Secure-session"}},
		{"__secure- without Secure", SessionConfig{CookieName: "__secure-session"}},
		{"__SECURE- without Secure", SessionConfig{CookieName: "__SECURE-session"}},
	}
	for _, c := range cases {
		c.cfg.SecretKey = secKey
		m, err := New(c.cfg)
		if m != nil || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want an error matching ErrInvalidConfig", c.name, m, err)
		}
	}

	// The safe versions of the same settings are accepted and written as
	// given.
	good := []SessionConfig{
		{CookieName: "__Host-session", Secure: true},
		{CookieName: "__host-session", Secure: true, Path: "/"},
		{CookieName: "__Secure-session", Secure: true, Domain: "example.test", Path: "/app"},
		{SameSite: http.SameSiteNoneMode, Secure: true, Partitioned: true},
		{Domain: "example.test", Path: "/my-app/v1"},
		{Domain: ".example.test"},
	}
	for _, cfg := range good {
		m := secNew(t, cfg)
		w := secServe(m, secProbe(&secSeen{}, func(_ http.ResponseWriter, _ *http.Request, s *Session) { s.Set("k", "v") }))
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
			wantName = DefaultCookieName
		}
		if c.Name != wantName || c.Secure != cfg.Secure || !c.HttpOnly || c.Partitioned != cfg.Partitioned {
			t.Errorf("%+v: cookie %q read back as %+v", cfg, lines[0], c)
		}
	}
}

// secVerifiesWith reports which of the given keys alone verify a cookie of
// cfg's shape (cookie or store mode), by sending it to a Middleware that
// has only that key.
func secVerifiesWith(t *testing.T, cfg SessionConfig, cookie string, keys ...string) []string {
	t.Helper()
	name := cfg.CookieName
	if name == "" {
		name = DefaultCookieName
	}
	var ok []string
	for _, k := range keys {
		c := cfg
		c.SecretKey, c.FallbackKeys = k, nil
		if seen := secLoad(t, secNew(t, c), name+"="+cookie); seen.UserID == "alice" {
			ok = append(ok, k)
		}
	}
	return ok
}

func TestSecurityKeysFallbackAcceptedAndResigned(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			base := SessionConfig{CookieName: "session"}
			if mode == "store" {
				base.Store = newSecMapStore()
			}
			oldCfg := base
			oldCfg.SecretKey = secOldKey
			old := secIssue(t, secNew(t, oldCfg), "alice", nil)

			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = secKey, []string{secOtherKey, secOldKey}
			m := secNew(t, cfg)
			var seen secSeen
			w := secServe(m, secProbe(&seen, nil), "session="+old)
			if seen.UserID != "alice" {
				t.Fatalf("cookie signed with a fallback key: user %q, want alice", seen.UserID)
			}
			fresh, ok := secSetCookie(t, w, "session")
			if !ok || fresh == "" {
				t.Fatal("a cookie signed with a fallback key was not re-signed on the same response")
			}
			if got := secVerifiesWith(t, base, fresh, secKey, secOtherKey, secOldKey); len(got) != 1 || got[0] != secKey {
				t.Errorf("re-signed cookie verifies with %d keys (%v), want SecretKey only", len(got), got)
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
			base := SessionConfig{}
			if mode == "store" {
				base.Store = newSecMapStore()
			}
			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = secKey, []string{secOtherKey, secOldKey}
			m := secNew(t, cfg)
			check := func(what, c string) {
				t.Helper()
				if got := secVerifiesWith(t, base, c, secKey, secOtherKey, secOldKey); len(got) != 1 || got[0] != secKey {
					t.Errorf("%s cookie verifies with %d keys (%v), want SecretKey only", what, len(got), got)
				}
			}
			fresh := secIssue(t, m, "alice", nil)
			check("new", fresh)
			changed := secIssue(t, m, "", map[string]any{"x": 1}, "session="+fresh)
			check("changed", changed)
			relogged := secIssue(t, m, "alice", nil, "session="+changed)
			check("regenerated", relogged)
			if mode == "cookie" {
				minted, err := m.Encode(map[string]any{"k": "v"})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{secKey, secOtherKey, secOldKey} {
					_, err := secNew(t, SessionConfig{SecretKey: k}).Decode(context.Background(), minted)
					if (err == nil) != (k == secKey) {
						t.Errorf("Encode output, key %.20s...: Decode err = %v", k, err)
					}
				}
			}
		})
	}
}

func TestSecurityKeysRetiredKeyRejected(t *testing.T) {
	old := secIssue(t, secNew(t, SessionConfig{SecretKey: secOldKey}), "alice", nil)
	// During rotation it is accepted...
	rotating := secNew(t, SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOldKey}})
	if seen := secLoad(t, rotating, "session="+old); seen.UserID != "alice" {
		t.Fatalf("during rotation: user %q, want alice", seen.UserID)
	}
	// ...and once the key is dropped, rejected.
	retired := secNew(t, SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOtherKey}})
	if seen := secLoad(t, retired, "session="+old); seen.UserID != "" {
		t.Errorf("retired key: user %q, want none", seen.UserID)
	}
	if _, err := retired.Decode(context.Background(), old); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Decode with a retired key = %v, want ErrBadSignature", err)
	}
}

func TestSecurityKeysWeakOrEmptyRefused(t *testing.T) {
	short := strings.Repeat("k", MinKeyLength-1)
	cases := []struct {
		name string
		cfg  SessionConfig
		want error
	}{
		{"empty", SessionConfig{}, ErrNoSecretKey},
		{"one byte", SessionConfig{SecretKey: "k"}, ErrWeakKey},
		{"one byte short", SessionConfig{SecretKey: short}, ErrWeakKey},
		{"empty fallback", SessionConfig{SecretKey: secKey, FallbackKeys: []string{""}}, ErrWeakKey},
		{"short fallback", SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOldKey, short}}, ErrWeakKey},
		{"store mode, empty", SessionConfig{Store: newSecMapStore()}, ErrNoSecretKey},
	}
	for _, c := range cases {
		m, err := New(c.cfg)
		if m != nil || !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want nil, %v (matching ErrInvalidConfig)", c.name, m, err, c.want)
		}
	}
	if _, err := New(SessionConfig{SecretKey: strings.Repeat("k", MinKeyLength)}); err != nil {
		t.Errorf("New with a %d-byte key: %v", MinKeyLength, err)
	}
}
