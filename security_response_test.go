package sessions

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// secVaryHasCookie reports whether h's Vary names Cookie.
func secVaryHasCookie(h http.Header) bool {
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
			cfg := SessionConfig{}
			if mode == "store" {
				cfg.Store = newSecMapStore()
			}
			m := secNew(t, cfg)
			alice := secIssue(t, m, "alice", nil)
			read := func(w http.ResponseWriter, r *http.Request) {
				s, _ := GetSession(r.Context())
				w.Write([]byte("hello " + s.UserID()))
			}
			cases := []struct {
				name    string
				h       http.HandlerFunc
				cookies []string
				vary    bool
			}{
				{"read, unchanged, with cookie", read, []string{"session=" + alice}, true},
				{"read, no cookie", read, nil, true},
				{"read, forged cookie", read, []string{"session=" + alice[:len(alice)-2]}, true},
				{"read, explicit WriteHeader", func(w http.ResponseWriter, r *http.Request) {
					GetSession(r.Context())
					w.WriteHeader(http.StatusAccepted)
				}, []string{"session=" + alice}, true},
				{"read, returns without writing", func(w http.ResponseWriter, r *http.Request) {
					GetSession(r.Context())
				}, []string{"session=" + alice}, true},
				{"read, handler's own Vary kept", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Vary", "Accept-Encoding")
					read(w, r)
				}, []string{"session=" + alice}, true},
				{"read through UserID", func(w http.ResponseWriter, r *http.Request) {
					UserID(r.Context())
					w.Write([]byte("x"))
				}, []string{"session=" + alice}, true},
				{"changed", func(w http.ResponseWriter, r *http.Request) {
					s, _ := GetSession(r.Context())
					s.Set("k", "v")
				}, nil, true},
				{"never read, with cookie", func(w http.ResponseWriter, r *http.Request) {
					// A helper may read the session after the headers are
					// gone; a response to a request with a session cookie
					// always varies on it.
					w.Write([]byte("static"))
				}, []string{"session=" + alice}, true},
				{"read after the headers went out", func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusOK)
					GetSession(r.Context())
				}, []string{"session=" + alice}, true},
				{"never read, no cookie", func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte("static"))
				}, []string{"other=1"}, false},
			}
			for _, c := range cases {
				w := secServe(m, c.h, c.cookies...)
				if got := secVaryHasCookie(w.Result().Header); got != c.vary {
					t.Errorf("%s: Vary: Cookie present = %v, want %v (Vary %q)", c.name, got, c.vary, w.Result().Header.Values("Vary"))
				}
				if c.name == "read, handler's own Vary kept" && !slices.Contains(w.Result().Header.Values("Vary"), "Accept-Encoding") {
					t.Errorf("%s: the handler's Vary was lost: %q", c.name, w.Result().Header.Values("Vary"))
				}
			}
		})
	}
}

// A response that sets the session cookie must not be cached with it.
func TestSecurityResponseCacheControlWhenSet(t *testing.T) {
	m := secNew(t, SessionConfig{})
	alice := secIssue(t, m, "alice", nil)
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
			s, _ := GetSession(r.Context())
			s.Set("k", "v")
		}, nil, true},
		{"login", func(w http.ResponseWriter, r *http.Request) {
			Login(r.Context(), "bob")
			w.Write([]byte("welcome"))
		}, []string{"session=" + alice}, true},
		{"logout (deletion cookie)", func(w http.ResponseWriter, r *http.Request) {
			Logout(r.Context())
		}, []string{"session=" + alice}, true},
		{"explicit Commit", func(w http.ResponseWriter, r *http.Request) {
			s, _ := GetSession(r.Context())
			s.Set("k", "v")
			Commit(r.Context())
			s.Set("k", "w")
		}, nil, true},
		{"read only", func(w http.ResponseWriter, r *http.Request) {
			GetSession(r.Context())
		}, []string{"session=" + alice}, false},
	}
	for _, c := range cases {
		w := secServe(m, c.h, c.cookies...)
		res := w.Result()
		set := len(res.Header.Values("Set-Cookie")) > 0
		if set != c.set {
			t.Errorf("%s: Set-Cookie present = %v, want %v", c.name, set, c.set)
		}
		if got := noCache(res.Header); got != set {
			t.Errorf("%s: Cache-Control %q with Set-Cookie %q", c.name, res.Header.Values("Cache-Control"), res.Header.Values("Set-Cookie"))
		}
		if n := len(res.Header.Values("Cache-Control")); n > 1 {
			t.Errorf("%s: %d Cache-Control lines", c.name, n)
		}
	}
}

// A handler that panics saves nothing, and the panic reaches the caller
// (net/http's recovery, or the application's own).
func TestSecurityResponsePanicSavesNothing(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			store := newSecMapStore()
			cfg := SessionConfig{}
			if mode == "store" {
				cfg.Store = store
			}
			m := secNew(t, cfg)
			alice := secIssue(t, m, "alice", nil)
			before := store.ids()
			acts := map[string]func(r *http.Request){
				"set":    func(r *http.Request) { s, _ := GetSession(r.Context()); s.Set("k", "v") },
				"login":  func(r *http.Request) { Login(r.Context(), "mallory") },
				"logout": func(r *http.Request) { Logout(r.Context()) },
			}
			for name, act := range acts {
				for _, cookies := range [][]string{nil, {"session=" + alice}} {
					type boom struct{}
					w := httptest.NewRecorder()
					r := httptest.NewRequest(http.MethodGet, "/", nil)
					for _, c := range cookies {
						r.Header.Add("Cookie", c)
					}
					got := func() (p any) {
						defer func() { p = recover() }()
						m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							act(r)
							panic(boom{})
						})).ServeHTTP(w, r)
						return nil
					}()
					if _, ok := got.(boom); !ok {
						t.Errorf("%s: recovered %v, want the handler's panic", name, got)
					}
					if sc := w.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
						t.Errorf("%s: Set-Cookie %q after a panic", name, sc)
					}
				}
			}
			if mode == "store" {
				// Logout and Login delete the old record at once (so that
				// it cannot be replayed), but nothing new is created.
				after := store.ids()
				for _, id := range after {
					if !slices.Contains(before, id) {
						t.Errorf("a record was created by a panicking request: %s", id)
					}
				}
			} else if got := secLoad(t, m, "session="+alice).UserID; got != "alice" {
				t.Errorf("cookie mode: the old cookie stopped working: user %q", got)
			}
		})
	}
}
