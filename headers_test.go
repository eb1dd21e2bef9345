package sessions_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
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
	key := strings.Repeat("k", 32)
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
	for _, cfg := range configs {
		m, err := sessions.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			for _, maxAge := range []int{0, 1, 59, 1209600} {
				if (maxAge == 0) != cfg.BrowserSession {
					continue
				}
				if got, want, _ := sessions.CookieLine(m, v, maxAge); got != want {
					t.Errorf("%+v: sessionCookie(%q, %d)\n got %s\nwant %s", cfg, v, maxAge, got, want)
				}
			}
		}
		if _, _, cut := sessions.CookieLine(m, "", 0); !cut {
			t.Errorf("%+v: the Set-Cookie line could not be cut into parts", cfg)
		}
	}
}

func TestLateReadOfSessionStillVaries(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := m.Encode(map[string]any{"name": "alice"})
	if err != nil {
		t.Fatal(err)
	}
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
	if rec.Body.String() != "hello alice" {
		t.Fatalf("body %q", rec.Body.String())
	}
	if got := rec.Header().Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q for a personalised body, want Cookie", got)
	}

	// Without a session cookie, an untouched response does not vary.
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Vary"); got != "" {
		t.Errorf("Vary = %q on a request without cookies", got)
	}
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
		if got := e.Load(c.lines...).UserID; got != c.want {
			t.Errorf("%s: user %q, want %q", c.name, got, c.want)
		}
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
		if got := e.Load(lines...).UserID; got != "alice" {
			t.Errorf("case %d %q: user %q, want alice", i, lines, got)
		}
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
	if got := e.Load(junk + "session=" + alice).UserID; got != "alice" {
		t.Errorf("after %d bytes of junk cookies: user %q, want alice", len(junk), got)
	}
	lines := strings.Split(strings.TrimSuffix(junk, "; "), "; ")
	if got := e.Load(append(lines, "session="+alice)...).UserID; got != "alice" {
		t.Errorf("after %d junk header lines: user %q, want alice", len(lines), got)
	}
	// Junk alone: an empty session, no cookie set.
	v := e.VisitLines(nil, junk)
	if seen := v.Seen; seen.Err != nil || len(seen.Values) != 0 {
		t.Errorf("junk only: %+v", seen)
	}
	if v.Cookie != "" || v.Deleted {
		t.Error("junk only: a session cookie was set")
	}
}

// Cookies whose names look like the session's are other cookies, even when
// their value is a valid session cookie.
func TestSecurityHeaderLookAlikeNames(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	alice := e.Issue("alice", nil)
	for _, name := range []string{"xsession", "session_", "sessio", "sessionsession", "SESSION", "Session", "session ", "session\t", "se ssion", "session.", `"session"`, "session%3D", "_session"} {
		line := name + "=" + alice
		if got := e.Load(line).UserID; got != "" {
			t.Errorf("Cookie: %q: user %q, want none", line, got)
		}
	}
	// A value that itself starts with "session=" is not our cookie either.
	if got := e.Load("other=session=" + alice).UserID; got != "" {
		t.Errorf("cookie value containing session=: user %q, want none", got)
	}
	// Leading white space is part of the separator, not of the name.
	if got := e.Load("a=1;  session=" + alice).UserID; got != "alice" {
		t.Errorf("after '; ': user %q, want alice", got)
	}

	// The same with a __Host- name: "__host-session" is another cookie.
	hm := sessions.NewEnv(t, sessions.SessionConfig{CookieName: "__Host-session", Secure: true})
	hv := hm.Issue("alice", nil)
	for _, name := range []string{"__host-session", "__Host-Session", "__Host-session_", "session"} {
		if got := hm.Load(name + "=" + hv).UserID; got != "" {
			t.Errorf("Cookie: %s=...: user %q, want none", name, got)
		}
	}
	if got := hm.Load("__Host-session=" + hv).UserID; got != "alice" {
		t.Errorf("__Host-session: user %q, want alice", got)
	}
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
				if got := varyHasCookie(w.Result().Header); got != c.vary {
					t.Errorf("%s: Vary: Cookie present = %v, want %v (Vary %q)", c.name, got, c.vary, w.Result().Header.Values("Vary"))
				}
				if got := w.Result().Header.Values("Vary"); c.exact != nil && !slices.Equal(got, c.exact) {
					t.Errorf("%s: Vary %q, want %q", c.name, got, c.exact)
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
		if set != c.set {
			t.Errorf("%s: Set-Cookie present = %v, want %v", c.name, set, c.set)
		}
		if got := noCache(res.Header); got != set {
			t.Errorf("%s: Cache-Control %q with Set-Cookie %q", c.name, res.Header.Values("Cache-Control"), res.Header.Values("Set-Cookie"))
		}
		if cc := res.Header.Values("Cache-Control"); set && !slices.Equal(cc, []string{`no-cache="Set-Cookie"`}) {
			t.Errorf("%s: Cache-Control %q, want exactly no-cache=\"Set-Cookie\"", c.name, cc)
		}
		if n := len(res.Header.Values("Cache-Control")); n > 1 {
			t.Errorf("%s: %d Cache-Control lines", c.name, n)
		}
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
		if got := seen.Values["role"] == "user"; got != c.ok {
			t.Errorf("Cookie: %s: session loaded = %v, want %v", c.header, got, c.ok)
		}
		// net/http agrees on what the value is.
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", c.header)
		if ck, err := r.Cookie("session"); c.ok && (err != nil || ck.Value != v) {
			t.Errorf("Cookie: %s: net/http reads %v, %v; want the unquoted value", c.header, ck, err)
		}
	}
}
