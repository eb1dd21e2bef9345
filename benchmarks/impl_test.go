package benchmarks

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	sessions "github.com/ctxsession/sessions"
	gorilla "github.com/gorilla/sessions"
)

// The payload every workload works on: an int, a 32-character string and a
// counter (an int), under these keys.
const (
	keyNum     = "n"
	keyStr     = "s"
	keyCounter = "c"
	valNum     = 42
	valStr     = "q7MbX2vKfR9tLwZp4cYhN8sJdE3gUa6B" // a CSRF-token-like string
	valCounter = 7
)

const secret = "bench-secret-key-0123456789abcdef" // 33 bytes

// The workloads: each is a handler wrapped by a library's middleware (or, for
// gorilla/sessions, which has none, a handler that calls the store itself).
const (
	wNew       = "new"       // no cookie; set the three keys
	wRead      = "read"      // valid cookie; read one key
	wWrite     = "write"     // valid cookie; increment the counter
	wUntouched = "untouched" // valid cookie; ignore the session
)

var workloads = []string{wNew, wRead, wWrite, wUntouched}

// wCounter is not timed: its handler reads the counter, as a decimal
// string, so that a test can check what the write workload stored.
const wCounter = "counter"

// An impl is one library (or one mode of one) under test. Its handlers end
// with WriteHeader(204), as the floor handler does, so every library commits
// through its ResponseWriter path.
type impl struct {
	name string
	// handler returns the wrapped handler of a workload. got receives what
	// the read handler read, so a test can check it outside the timed loop.
	handler func(workload string, got *string) http.Handler
}

func impls(tb testing.TB) []impl {
	out := []impl{
		ctxImpl(tb, "ctxsession-cookie", sessions.SessionConfig{SecretKey: secret}),
	}
	out = append(out, storeImpls(tb)...)
	out = append(out, gorillaImpl(), scsImpl())
	return out
}

// ctxImpl runs this module's middleware with cfg.
func ctxImpl(tb testing.TB, name string, cfg sessions.SessionConfig) impl {
	m, err := sessions.New(cfg)
	if err != nil {
		tb.Fatalf("%s: New: %v", name, err)
	}
	return impl{name: name, handler: func(workload string, got *string) http.Handler {
		var h http.HandlerFunc
		switch workload {
		case wNew:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					panic(err)
				}
				s.Set(keyNum, valNum)
				s.Set(keyStr, valStr)
				s.Set(keyCounter, valCounter)
				w.WriteHeader(http.StatusNoContent)
			}
		case wRead:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					panic(err)
				}
				*got, _ = sessions.GetAs[string](s, keyStr)
				w.WriteHeader(http.StatusNoContent)
			}
		case wWrite:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					panic(err)
				}
				c, _ := sessions.GetAs[int](s, keyCounter)
				s.Set(keyCounter, c+1)
				w.WriteHeader(http.StatusNoContent)
			}
		case wCounter:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					panic(err)
				}
				c, _ := sessions.GetAs[int](s, keyCounter)
				*got = strconv.Itoa(c)
			}
		case wUntouched:
			h = nothing
		}
		return m.Handler(h)
	}}
}

// gorillaImpl runs gorilla/sessions' CookieStore (HMAC-SHA256, no
// encryption, like this module's default format).
func gorillaImpl() impl {
	store := gorilla.NewCookieStore([]byte(secret))
	const name = "session"
	return impl{name: "gorilla-cookie", handler: func(workload string, got *string) http.Handler {
		switch workload {
		case wNew:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := store.Get(r, name)
				s.Values[keyNum] = valNum
				s.Values[keyStr] = valStr
				s.Values[keyCounter] = valCounter
				if err := s.Save(r, w); err != nil {
					panic(err)
				}
				w.WriteHeader(http.StatusNoContent)
			})
		case wRead:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := store.Get(r, name)
				if err != nil {
					panic(err)
				}
				*got, _ = s.Values[keyStr].(string)
				w.WriteHeader(http.StatusNoContent)
			})
		case wWrite:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := store.Get(r, name)
				if err != nil {
					panic(err)
				}
				c, _ := s.Values[keyCounter].(int)
				s.Values[keyCounter] = c + 1
				if err := s.Save(r, w); err != nil {
					panic(err)
				}
				w.WriteHeader(http.StatusNoContent)
			})
		case wCounter:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := store.Get(r, name)
				c, _ := s.Values[keyCounter].(int)
				*got = strconv.Itoa(c)
			})
		}
		return nothing // gorilla/sessions has no middleware: an untouched session costs nothing
	}}
}

// scsImpl runs scs/v2's LoadAndSave with its memstore.
func scsImpl() impl {
	sm := scs.New()
	// No cleanup goroutine: scs's StopCleanup races with its start.
	sm.Store = scsmem.NewWithCleanupInterval(0)
	return impl{name: "scs-memstore", handler: func(workload string, got *string) http.Handler {
		var h http.HandlerFunc
		switch workload {
		case wNew:
			h = func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				sm.Put(ctx, keyNum, valNum)
				sm.Put(ctx, keyStr, valStr)
				sm.Put(ctx, keyCounter, valCounter)
				w.WriteHeader(http.StatusNoContent)
			}
		case wRead:
			h = func(w http.ResponseWriter, r *http.Request) {
				*got = sm.GetString(r.Context(), keyStr)
				w.WriteHeader(http.StatusNoContent)
			}
		case wWrite:
			h = func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				sm.Put(ctx, keyCounter, sm.GetInt(ctx, keyCounter)+1)
				w.WriteHeader(http.StatusNoContent)
			}
		case wCounter:
			h = func(w http.ResponseWriter, r *http.Request) {
				*got = strconv.Itoa(sm.GetInt(r.Context(), keyCounter))
			}
		case wUntouched:
			h = nothing
		}
		return sm.LoadAndSave(h)
	}}
}

// nothing is the floor's handler.
var nothing = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// serve runs one request through h the way every benchmark does: a request
// parsed by httptest.NewRequest (as a server parses one), the Cookie header
// when cookie is not empty, and a fresh ResponseRecorder.
func serve(h http.Handler, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// seedCookie runs the new workload once and returns the Cookie header a
// browser would send back.
func seedCookie(tb testing.TB, im impl) string {
	w := serve(im.handler(wNew, new(string)), "")
	lines := w.Header().Values("Set-Cookie")
	if len(lines) != 1 {
		tb.Fatalf("%s: new: got %d Set-Cookie lines, want 1: %q", im.name, len(lines), lines)
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		tb.Fatalf("%s: new: bad Set-Cookie %q: %v", im.name, lines[0], err)
	}
	return c.Name + "=" + c.Value
}

// cookieFor returns the Cookie header a workload's requests carry.
func cookieFor(tb testing.TB, im impl, workload string) string {
	if workload == wNew {
		return ""
	}
	return seedCookie(tb, im)
}

// setCookieValue returns the value of the one Set-Cookie line of w, or "".
func setCookieValue(tb testing.TB, w *httptest.ResponseRecorder) string {
	lines := w.Header().Values("Set-Cookie")
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 1 {
		tb.Fatalf("got %d Set-Cookie lines, want at most 1: %q", len(lines), lines)
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		tb.Fatalf("bad Set-Cookie %q: %v", lines[0], err)
	}
	return c.Name + "=" + c.Value
}

func isCtxsession(im impl) bool { return strings.HasPrefix(im.name, "ctxsession") }
