package sessions_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzMiddlewareHeader sends arbitrary Cookie headers through the
// middleware (cookie mode in every format, and store mode): no panic, never
// a 500, and the handler always gets a session.
func FuzzMiddlewareHeader(f *testing.F) {
	seeds := sessions.SeedCookies(f)
	for _, s := range seeds {
		f.Add("session=" + s)
		f.Add(`a=1; session="` + s + `"; session=x`)
	}
	for _, s := range []string{"", "session", "session=", `session=""`, "session=;session=;session=;session=;session=", "=; ;;", "session=\x00", "session=\xff\xfe", "SESSION=x; session =y"} {
		f.Add(s)
	}
	var errs []error
	handlerErr := func(w http.ResponseWriter, r *http.Request, err error) {
		errs = append(errs, err)
		http.Error(w, "error", http.StatusInternalServerError)
	}
	var ms []*sessions.Middleware
	for _, format := range sessions.Formats() {
		ms = append(ms, sessions.NewEnv(f, sessions.SessionConfig{Format: format, ErrorHandler: handlerErr}).M)
	}
	storeMode := len(ms)
	ms = append(ms, sessions.NewEnv(f, sessions.SessionConfig{Store: faultstore.NewMem(f), ErrorHandler: handlerErr}).M)
	f.Fuzz(func(t *testing.T, header string) {
		for i, m := range ms {
			errs = nil
			called := false
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				s, err := sessions.GetSession(r.Context())
				if err != nil || s == nil {
					t.Fatalf("middleware %d: GetSession = %v, %v", i, s, err)
				}
				for _, k := range s.Keys() {
					s.Get(k)
				}
				s.UserID()
				s.Flashes()
				if i != storeMode {
					s.Set("seen", len(header))
				}
			})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Cookie"] = []string{header}
			w := httptest.NewRecorder()
			m.Handler(h).ServeHTTP(w, r)
			if !called || w.Code == http.StatusInternalServerError || len(errs) > 0 {
				t.Fatalf("middleware %d, Cookie %q: called %v, status %d, errors %v", i, header, called, w.Code, errs)
			}
			for _, line := range w.Result().Header.Values("Set-Cookie") {
				if _, err := http.ParseSetCookie(line); err != nil {
					t.Fatalf("middleware %d: unparsable Set-Cookie %q: %v", i, line, err)
				}
			}
		}
	})
}

// TestSessionCookieLine: the Set-Cookie line made from parts is the one
// http.Cookie.String writes, for every attribute and for values that need
// sanitizing or quoting (which take http.Cookie.String itself).
func TestSessionCookieLine(t *testing.T) {
	key := sessions.TestKey
	configs := []sessions.SessionConfig{
		{SecretKey: key},
		{SecretKey: key, CookieName: "__Host-s", Secure: true, SameSite: http.SameSiteStrictMode},
		{SecretKey: key, Path: "/app", Domain: "example.com", ScriptReadable: true},
		{SecretKey: key, Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true},
		{SecretKey: key, BrowserSession: true},
	}
	values := []string{
		"eyJhIjoxfQ.ZVPxAA.6wYCRyZsRKsJfc2Tjrfqoc83HAtP2IYBjSozbkHQRvY",
		".eJyrVsosSc0tVrKKBjN0DZR0IAxDGMMIxjCGMUxgjFHFpCuOrQUA3vFn1Q.ZVPxAA.v74",
		"a b", "a,b", `a"b`, "a;b", "a\\b", "é", "",
	}
	// Every byte a cookie value may hold (net/http logs the others), the
	// ones that need no quoting among them.
	for c := byte(0x20); c < 0x7f; c++ {
		if c != '"' && c != ';' && c != '\\' {
			values = append(values, "a"+string([]byte{c})+"b")
		}
	}
	for _, cfg := range configs {
		m, err := sessions.New(cfg)
		require.NoError(t, err)
		for _, v := range values {
			for _, maxAge := range []int{0, 1, 59, 1209600} {
				if (maxAge == 0) != cfg.BrowserSession {
					continue
				}
				got, want, _ := sessions.CookieLine(m, v, maxAge)
				assert.Equal(t, want, got, "%+v: sessionCookie(%q, %d)", cfg, v, maxAge)
			}
		}
		_, _, cut := sessions.CookieLine(m, "", 0)
		assert.True(t, cut, "%+v: the Set-Cookie line could not be cut into parts", cfg)
	}
}

func TestLateReadOfSessionStillVaries(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey})
	require.NoError(t, err)
	cookie, err := m.Encode(map[string]any{"name": "alice"})
	require.NoError(t, err)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		s, _ := sessions.GetSession(r.Context())
		n, _ := sessions.GetAs[string](s, "name")
		w.Write([]byte("hello " + n))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, "hello alice", rec.Body.String())
	assert.Equal(t, "Cookie", rec.Header().Get("Vary"), "Vary for a personalised body")

	// Without a session cookie, an untouched response does not vary.
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Empty(t, rec.Header().Get("Vary"), "Vary on a request without cookies")
}

// Cookie header games. The rule (SECURITY.md): cookies of the session's name
// are tried in the order the browser sent them, across Cookie header lines,
// and the first that verifies wins; at most MaxCandidates of them are tried.

func TestSecurityHeaderDuplicateNames(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	bob := e.Issue("bob", nil)
	forged := sessions.ReplaceAt(alice, 3, alice[3]^1)
	cases := []struct {
		name  string
		lines []string
		want  string
	}{
		{"first valid wins", []string{"session=" + alice + "; session=" + bob}, "alice"},
		{"order decides", []string{"session=" + bob + "; session=" + alice}, "bob"},
		{"invalid first is skipped", []string{"session=" + forged + "; session=" + alice}, "alice"},
		{"invalid last is ignored", []string{"session=" + alice + "; session=" + forged}, "alice"},
		{"empty value is skipped", []string{"session=; session=" + bob}, "bob"},
		{"across header lines", []string{"session=" + bob, "session=" + alice}, "bob"},
		{"invalid line first", []string{"session=" + forged, "session=" + alice}, "alice"},
		{"all invalid", []string{"session=" + forged + "; session=x"}, ""},
		{
			fmt.Sprintf("%d invalid before a valid one", sessions.MaxCandidates-1),
			[]string{strings.Repeat("session=x; ", sessions.MaxCandidates-1) + "session=" + alice}, "alice",
		},
		{
			// The bound on work per request: later cookies are not tried.
			fmt.Sprintf("%d invalid before a valid one", sessions.MaxCandidates),
			[]string{strings.Repeat("session=x; ", sessions.MaxCandidates) + "session=" + alice}, "",
		},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, e.Load(c.lines...).UserID, c.name)
	}
}

func TestSecurityHeaderSeveralLines(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	cases := [][]string{
		{"a=1", "session=" + alice},
		{"a=1; b=2", "c=3", "session=" + alice + "; d=4"},
		{"", "session=" + alice},
		{";;;", " session=" + alice + " "},
		{"session", "session=" + alice},
	}
	for i, lines := range cases {
		assert.Equal(t, "alice", e.Load(lines...).UserID, "case %d %q", i, lines)
	}
}

func TestSecurityHeaderThousandsOfJunkCookies(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "junk%d=%s; ", i, strings.Repeat("x", i%50))
		if i%100 == 0 {
			b.WriteString("novalue; =noname; ; ")
		}
	}
	junk := b.String()
	assert.Equal(t, "alice", e.Load(junk+"session="+alice).UserID, "after %d bytes of junk cookies", len(junk))
	lines := strings.Split(strings.TrimSuffix(junk, "; "), "; ")
	assert.Equal(t, "alice", e.Load(append(lines, "session="+alice)...).UserID, "after %d junk header lines", len(lines))
	// Junk alone: an empty session, no cookie set.
	v := e.VisitLines(nil, junk)
	assert.NoError(t, v.Seen.Err, "junk only")
	assert.Empty(t, v.Seen.Values, "junk only")
	assert.Empty(t, v.Rec.Header().Values("Set-Cookie"), "junk only: a session cookie was set")
}

// Cookies whose names look like the session's are other cookies, even when
// their value is a valid session cookie.
func TestSecurityHeaderLookAlikeNames(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	for _, name := range []string{"xsession", "session_", "sessio", "sessionsession", "SESSION", "Session", "session ", "session\t", "se ssion", "session.", `"session"`, "session%3D", "_session"} {
		line := name + "=" + alice
		assert.Empty(t, e.Load(line).UserID, "Cookie: %q", line)
	}
	// A value that itself starts with "session=" is not our cookie either.
	assert.Empty(t, e.Load("other=session="+alice).UserID, "a cookie value containing session=")
	// Leading white space is part of the separator, not of the name.
	assert.Equal(t, "alice", e.Load("a=1;  session="+alice).UserID, "after '; '")

	// The same with a __Host- name: "__host-session" is another cookie.
	hm := sessions.NewEnv(t, sessions.SessionConfig{CookieName: "__Host-session", Secure: true})
	hv := hm.Issue("alice", nil)
	for _, name := range []string{"__host-session", "__Host-Session", "__Host-session_", "session"} {
		assert.Empty(t, hm.Load(name+"="+hv).UserID, "Cookie: %s=...", name)
	}
	assert.Equal(t, "alice", hm.Load("__Host-session="+hv).UserID, "__Host-session")
}

// varyHasCookie reports whether h's Vary names Cookie.
func varyHasCookie(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
				return true
			}
		}
	}
	return false
}

// A shared cache must not serve one user's page, rendered from their
// session, to another user (Flask CVE-2023-30861): every response whose
// handler read the session says Vary: Cookie, changed or not.
func TestSecurityResponseVaryCookie(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			cfg := sessions.SessionConfig{}
			if mode == "store" {
				cfg.Store = faultstore.NewMem(t)
			}
			e := sessions.NewEnv(t, cfg)
			alice := e.Issue("alice", nil)
			read := func(w http.ResponseWriter, r *http.Request) {
				s, _ := sessions.GetSession(r.Context())
				w.Write([]byte("hello " + s.UserID()))
			}
			cases := []struct {
				name    string
				h       http.HandlerFunc
				cookies []string
				vary    bool
				exact   []string // the whole Vary, when not nil
			}{
				{"read, unchanged, with cookie", read, []string{"session=" + alice}, true, nil},
				{"read, no cookie", read, nil, true, []string{"Cookie"}},
				{"read, forged cookie", read, []string{"session=" + alice[:len(alice)-2]}, true, nil},
				{"read, explicit WriteHeader", func(w http.ResponseWriter, r *http.Request) {
					sessions.GetSession(r.Context())
					w.WriteHeader(http.StatusAccepted)
				}, []string{"session=" + alice}, true, nil},
				{"read, returns without writing", func(w http.ResponseWriter, r *http.Request) {
					sessions.GetSession(r.Context())
				}, []string{"session=" + alice}, true, nil},
				{"read, handler's own Vary kept", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Vary", "Accept-Encoding")
					read(w, r)
				}, []string{"session=" + alice}, true, []string{"Accept-Encoding", "Cookie"}},
				{"written, Cookie already listed", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Add("Vary", "Accept-Encoding, cookie")
					sessions.MustSession(t, r).Set("k", 1)
				}, nil, true, []string{"Accept-Encoding, cookie"}},
				{"read, Vary *", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Add("Vary", "*")
					read(w, r)
				}, nil, false, []string{"*"}},
				{"read through UserID", func(w http.ResponseWriter, r *http.Request) {
					sessions.UserID(r.Context())
					w.Write([]byte("x"))
				}, []string{"session=" + alice}, true, nil},
				{"changed", func(w http.ResponseWriter, r *http.Request) {
					s, _ := sessions.GetSession(r.Context())
					s.Set("k", "v")
				}, nil, true, []string{"Cookie"}},
				{"never read, with cookie", func(w http.ResponseWriter, r *http.Request) {
					// A helper may read the session after the headers are
					// gone; a response to a request with a session cookie
					// always varies on it.
					w.Write([]byte("static"))
				}, []string{"session=" + alice}, true, nil},
				{"read after the headers went out", func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusOK)
					sessions.GetSession(r.Context())
				}, []string{"session=" + alice}, true, nil},
				{"never read, no cookie", func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte("static"))
				}, []string{"other=1"}, false, nil},
			}
			for _, c := range cases {
				w := e.Serve(c.h, c.cookies...)
				vary := w.Result().Header.Values("Vary")
				assert.Equal(t, c.vary, varyHasCookie(w.Result().Header), "%s: Vary: Cookie present (Vary %q)", c.name, vary)
				if c.exact != nil {
					assert.Equal(t, c.exact, vary, "%s: Vary", c.name)
				}
			}
		})
	}
}

// A response that sets the session cookie must not be cached with it.
func TestSecurityResponseCacheControlWhenSet(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	noCache := func(h http.Header) bool {
		for _, v := range h.Values("Cache-Control") {
			if strings.Contains(v, `no-cache="Set-Cookie"`) {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name    string
		h       http.HandlerFunc
		cookies []string
		set     bool
	}{
		{"new session", func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			s.Set("k", "v")
		}, nil, true},
		{"login", func(w http.ResponseWriter, r *http.Request) {
			sessions.Login(r.Context(), "bob")
			w.Write([]byte("welcome"))
		}, []string{"session=" + alice}, true},
		{"logout (deletion cookie)", func(w http.ResponseWriter, r *http.Request) {
			sessions.Logout(r.Context())
		}, []string{"session=" + alice}, true},
		{"explicit Commit", func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessions.GetSession(r.Context())
			s.Set("k", "v")
			sessions.Commit(r.Context())
			s.Set("k", "w")
		}, nil, true},
		{"read only", func(w http.ResponseWriter, r *http.Request) {
			sessions.GetSession(r.Context())
		}, []string{"session=" + alice}, false},
	}
	for _, c := range cases {
		w := e.Serve(c.h, c.cookies...)
		res := w.Result()
		set := len(res.Header.Values("Set-Cookie")) > 0
		assert.Equal(t, c.set, set, "%s: Set-Cookie present", c.name)
		cc := res.Header.Values("Cache-Control")
		assert.Equal(t, set, noCache(res.Header), "%s: Cache-Control %q with Set-Cookie %q", c.name, cc, res.Header.Values("Set-Cookie"))
		if set {
			assert.Equal(t, []string{`no-cache="Set-Cookie"`}, cc, "%s: Cache-Control", c.name)
		}
		assert.LessOrEqual(t, len(cc), 1, "%s: Cache-Control lines", c.name)
	}
}

// Quoted cookie values: the middleware strips one pair of surrounding double
// quotes, as net/http's Request.Cookie does; what remains must verify.
func TestSecuritySignatureQuotedValues(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	v := e.ValidCookie()
	cases := []struct {
		header string
		ok     bool
	}{
		{`session="` + v + `"`, true},
		{`session=` + v, true},
		{`session=""` + v + `""`, false},
		{`session="` + v, false},
		{`session=` + v + `"`, false},
		{`session='` + v + `'`, false},
		{`session="` + v[:len(v)-1] + `"`, false},
		{`session=""`, false},
		{`session="`, false},
	}
	for _, c := range cases {
		seen := e.Load(c.header)
		assert.Equal(t, c.ok, seen.Values["role"] == "user", "Cookie: %s: session loaded", c.header)
		// net/http agrees on what the value is.
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", c.header)
		if c.ok {
			ck, err := r.Cookie("session")
			if assert.NoError(t, err, "Cookie: %s: net/http", c.header) {
				assert.Equal(t, v, ck.Value, "Cookie: %s: net/http reads the unquoted value", c.header)
			}
		}
	}
}

// TestSecurityResponsePublicBecomesPrivate: a response that sets the
// session cookie carries a Cache-Control no shared cache may store it
// under, whatever the handler set; one that sets no cookie is untouched.
func TestSecurityResponsePublicBecomesPrivate(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	for _, tt := range []struct {
		handler []string
		want    []string
	}{
		{nil, []string{`no-cache="Set-Cookie"`}},
		{[]string{"public, max-age=600"}, []string{"private, max-age=600", `no-cache="Set-Cookie"`}},
		{[]string{"max-age=600, PUBLIC"}, []string{"max-age=600, private", `no-cache="Set-Cookie"`}},
		{[]string{"s-maxage=600"}, []string{"s-maxage=600", `private, no-cache="Set-Cookie"`}},
		{[]string{"max-age=60", "public"}, []string{"max-age=60", "private", `no-cache="Set-Cookie"`}},
		{[]string{`no-store`}, []string{`no-store`, `no-cache="Set-Cookie"`}},
		{[]string{`private, no-cache="Set-Cookie, X"`}, []string{`private, no-cache="Set-Cookie, X"`, `no-cache="Set-Cookie"`}},
	} {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
			for _, v := range tt.handler {
				w.Header().Add("Cache-Control", v)
			}
			sessions.MustSession(t, r).Set("csrf", "t")
		}, "")
		require.NotNil(t, testkit.SetCookie(t, rec.Header(), e.Name), "handler set %q: no session cookie", tt.handler)
		assert.Equal(t, tt.want, rec.Result().Header["Cache-Control"], "handler set %q", tt.handler)
	}
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
	}, "")
	assert.Equal(t, []string{"public, max-age=600"}, rec.Result().Header["Cache-Control"], "no cookie set")
}

// TestSecurityResponseCacheControlAfterCommit: after an explicit Commit,
// http.ServeContent's error path and a handler both remove or loosen
// Cache-Control; the response still goes out with one that keeps the
// cookie out of shared caches.
func TestSecurityResponseCacheControlAfterCommit(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	commit := func(w http.ResponseWriter, r *http.Request) {
		sessions.MustSession(t, r).Set("csrf", "t")
		require.NoError(t, sessions.Commit(r.Context()))
	}
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		http.ServeFile(w, r, filepath.Join(t.TempDir(), "missing"))
	}, "")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	require.NotNil(t, testkit.SetCookie(t, rec.Header(), e.Name), "ServeFile 404: no session cookie")
	assert.Equal(t, []string{`no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "ServeFile 404")

	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		r.Header.Set("Range", "bytes=100-200")
		http.ServeContent(w, r, "x.txt", sessions.TestStart, strings.NewReader("short"))
	}, "")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, rec.Code)
	require.NotNil(t, testkit.SetCookie(t, rec.Header(), e.Name), "ServeContent 416: no session cookie")
	assert.Equal(t, []string{`no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "ServeContent 416")

	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Write([]byte("page"))
	}, "")
	require.NotNil(t, testkit.SetCookie(t, rec.Header(), e.Name), "public set after Commit: no session cookie")
	assert.Equal(t, []string{"private, max-age=600", `no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "public set after Commit")
}
