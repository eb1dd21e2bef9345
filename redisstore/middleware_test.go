package redisstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/redis/go-redis/v9"
)

const mwKey = "redisstore-test-secret-0123456789abcdefghij"

// app is one application instance: a Middleware on a Redis store behind
// its own HTTP server.
type app struct {
	m    *sessions.Middleware
	srv  *httptest.Server
	mu   sync.Mutex
	errs []error // what the error handler saw
}

func (a *app) lastErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) == 0 {
		return nil
	}
	return a.errs[len(a.errs)-1]
}

// newApp serves: GET /get?k= (the value), /set?k=&v=, /incr?k=,
// /login?u=, /logout, /who.
func newApp(t *testing.T, store sessions.Store, wrap func(http.Handler) http.Handler) *app {
	t.Helper()
	a := &app{}
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: mwKey,
		Store:     store,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.mu.Lock()
			a.errs = append(a.errs, err)
			a.mu.Unlock()
			http.Error(w, "session store unavailable", http.StatusInternalServerError)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.m = m
	mux := http.NewServeMux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		v, _ := sessions.GetAs[string](s, r.URL.Query().Get("k"))
		io.WriteString(w, v)
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		s.Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		k := r.URL.Query().Get("k")
		n, _ := sessions.GetAs[int](s, k)
		s.Set(k, n+1)
		io.WriteString(w, strings.Repeat("+", n+1))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), r.URL.Query().Get("u")); err != nil {
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if sessions.Logout(r.Context()) == nil {
			io.WriteString(w, "ok")
		}
	})
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		u, _ := sessions.UserID(r.Context())
		io.WriteString(w, u)
	})
	var h http.Handler = m.Handler(mux)
	if wrap != nil {
		h = wrap(h)
	}
	a.srv = httptest.NewServer(h)
	t.Cleanup(a.srv.Close)
	return a
}

// browser is a client with a cookie jar shared across app instances (the
// two servers play one site behind a load balancer: the jar is keyed by
// host, and both listen on 127.0.0.1).
type browser struct {
	t   *testing.T
	c   *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}, jar: jar}
}

func (b *browser) get(a *app, path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(a.srv.URL + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func (b *browser) mustGet(a *app, path, want string) {
	b.t.Helper()
	code, body := b.get(a, path)
	if code != 200 || body != want {
		b.t.Fatalf("GET %s = %d %q; want 200 %q", path, code, body, want)
	}
}

// cookie returns the browser's session cookie for a.
func (b *browser) cookie(a *app) string {
	req, _ := http.NewRequest("GET", a.srv.URL, nil)
	for _, c := range b.jar.Cookies(req.URL) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func TestTwoInstancesShareSessions(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	// Each instance has its own client and store, as separate processes
	// would; only Redis is shared.
	other := redis.NewClient(&redis.Options{Addr: sharedAddr})
	t.Cleanup(func() { other.Close() })
	a := newApp(t, redisstore.New(rdb, redisstore.WithPrefix(prefix)), nil)
	b := newApp(t, redisstore.New(other, redisstore.WithPrefix(prefix)), nil)
	if a.srv.URL == b.srv.URL {
		t.Fatal("the two instances share a server")
	}

	alice := newBrowser(t)
	alice.mustGet(a, "/set?k=cart=3", "ok")
	alice.mustGet(a, "/login?u=alice", "ok")
	alice.mustGet(b, "/who", "alice")
	alice.mustGet(b, "/incr?k=n", "+")
	alice.mustGet(a, "/incr?k=n", "++")
	alice.mustGet(b, "/incr?k=n", "+++")
	loggedIn := alice.cookie(a)

	// Logout on one instance ends the session on the other, and the old
	// cookie replayed to either is rejected.
	alice.mustGet(b, "/logout", "ok")
	thief := newBrowser(t)
	thief.jar.SetCookies(mustURL(t, a.srv.URL), []*http.Cookie{{Name: "session", Value: loggedIn}})
	thief.mustGet(a, "/who", "")
	thief.mustGet(b, "/who", "")
	thief.mustGet(a, "/get?k=n", "")

	// DestroyUser through either instance ends every device's session.
	var devices []*browser
	for range 3 {
		d := newBrowser(t)
		d.mustGet(a, "/login?u=bob", "ok")
		d.mustGet(b, "/who", "bob")
		devices = append(devices, d)
	}
	ids, err := b.m.UserSessions(context.Background(), "bob")
	if err != nil || len(ids) != 3 {
		t.Fatalf("UserSessions(bob) = %d, %v; want 3", len(ids), err)
	}
	if err := b.m.DestroyUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		d.mustGet(a, "/who", "")
		d.mustGet(b, "/who", "")
	}
}

func TestLogoutRacingSlowWriterOnRedis(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	store := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	loaded, release := make(chan struct{}), make(chan struct{})
	a := newApp(t, store, nil)
	br := newBrowser(t)
	br.mustGet(a, "/login?u=carol", "ok")
	cookie := br.cookie(a)

	slowSrv := httptest.NewServer(a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return
		}
		close(loaded)
		<-release
		s.Set("late", "write")
	})))
	defer slowSrv.Close()
	done := make(chan *http.Response)
	go func() {
		req, _ := http.NewRequest("GET", slowSrv.URL, nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	<-loaded
	br.mustGet(a, "/logout", "ok")
	close(release)
	resp := <-done
	if resp == nil {
		t.FailNow()
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.MaxAge >= 0 {
			t.Fatalf("slow writer got a session cookie after logout")
		}
	}
	keys, _ := rdb.Keys(context.Background(), prefix+"s:*").Result()
	if len(keys) != 0 {
		t.Fatalf("Redis holds %d sessions; the slow writer recreated the logged-out one", len(keys))
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRedisStopAndRestart stops Redis while a user holds a session:
// requests fail loudly (500, no cookie, nothing replaced) while it is down,
// and after the restart the session is back, as it was.
func TestRedisStopAndRestart(t *testing.T) {
	r := startOwnRedis(t)
	rdb := redis.NewClient(&redis.Options{
		Addr: r.addr(), MaxRetries: 1, DialTimeout: 500 * time.Millisecond,
		ReadTimeout: time.Second, WriteTimeout: time.Second, ContextTimeoutEnabled: true,
	})
	defer rdb.Close()
	a := newApp(t, redisstore.New(rdb), nil)
	br := newBrowser(t)
	br.mustGet(a, "/login?u=dave", "ok")
	br.mustGet(a, "/incr?k=n", "+")
	cookie := br.cookie(a)

	r.stop()
	for _, path := range []string{"/incr?k=n", "/get?k=n", "/who", "/logout"} {
		code, _ := br.get(a, path)
		if code != http.StatusInternalServerError {
			t.Fatalf("GET %s with Redis down = %d; want 500", path, code)
		}
		if !errors.Is(a.lastErr(), sessions.ErrStore) {
			t.Fatalf("error handler got %v; want ErrStore", a.lastErr())
		}
		if br.cookie(a) != cookie {
			t.Fatalf("GET %s with Redis down changed the cookie", path)
		}
	}
	// A new visitor gets no cookie for a session that was never saved.
	stranger := newBrowser(t)
	if code, _ := stranger.get(a, "/set?k=x&v=1"); code != http.StatusInternalServerError || stranger.cookie(a) != "" {
		t.Fatalf("new session with Redis down: status %d cookie %q; want 500 and none", code, stranger.cookie(a))
	}

	r.start()
	// The pool reconnects; the session is intact, with nothing the failed
	// requests tried to write.
	br.mustGet(a, "/who", "dave")
	br.mustGet(a, "/incr?k=n", "++")
	stranger.mustGet(a, "/set?k=x&v=1", "ok")
	stranger.mustGet(a, "/get?k=x", "1")
}

// isTimeout reports whether err comes from a deadline: the context's, or
// the connection's read deadline that go-redis derives from it.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// TestDeadlineShorterThanDelay pauses Redis (CLIENT PAUSE) for longer than
// the request's deadline: the request fails with ErrStore and a 500, and
// nothing is lost once Redis answers again.
func TestDeadlineShorterThanDelay(t *testing.T) {
	r := startOwnRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer admin.Close()
	cases := []struct {
		name    string
		opts    redis.Options
		wrap    func(http.Handler) http.Handler
		timeout func(error) bool
	}{
		{"request deadline", redis.Options{ContextTimeoutEnabled: true, ReadTimeout: 30 * time.Second, MaxRetries: -1},
			func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ctx, cancel := context.WithTimeout(r.Context(), 150*time.Millisecond)
					defer cancel()
					h.ServeHTTP(w, r.WithContext(ctx))
				})
			},
			isTimeout},
		{"client read timeout", redis.Options{ReadTimeout: 150 * time.Millisecond, MaxRetries: -1}, nil,
			isTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Addr = r.addr()
			rdb := redis.NewClient(&opts)
			defer rdb.Close()
			a := newApp(t, redisstore.New(rdb), tc.wrap)
			br := newBrowser(t)
			br.mustGet(a, "/set?k=v&v=before", "ok")
			cookie := br.cookie(a)

			// Pause every client for far longer than the deadline.
			if err := admin.Do(context.Background(), "CLIENT", "PAUSE", 3000, "ALL").Err(); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/get?k=v", "/set?k=v&v=during"} {
				code, _ := br.get(a, path)
				if code != http.StatusInternalServerError {
					t.Fatalf("GET %s while Redis is paused = %d; want 500", path, code)
				}
				err := a.lastErr()
				if !errors.Is(err, sessions.ErrStore) || !tc.timeout(err) {
					t.Fatalf("error handler got %v; want ErrStore caused by the timeout", err)
				}
				if br.cookie(a) != cookie {
					t.Fatal("cookie changed while Redis was paused")
				}
			}
			// Wait out the pause (CLIENT UNPAUSE would be paused too).
			deadline := time.Now().Add(20 * time.Second)
			for admin.Ping(context.Background()).Err() != nil && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			admin.Do(context.Background(), "CLIENT", "UNPAUSE")
			br.mustGet(a, "/get?k=v", "before")
		})
	}
}
