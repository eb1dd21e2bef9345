package sessions

import (
	"errors"
	"net/http"
	"testing"
)

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
