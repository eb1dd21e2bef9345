package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// sharedAddr is the Redis every test run uses. A missing Redis fails the
// tests; nothing is skipped.
const sharedAddr = "127.0.0.1:6379"

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sharedClient connects to the shared Redis and fails the test if it does
// not answer.
func sharedClient(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: sharedAddr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is required (start it with .ci/provision.sh): %v", sharedAddr, err)
	}
	return rdb
}

// testPrefix returns a prefix no other test uses, and removes its keys
// when the test ends.
func testPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	prefix := "ctxsession-test:" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

func TestConformance(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return redisstore.New(rdb, redisstore.WithPrefix(prefix))
	})
}

// TestConformanceUniversalClient runs the suite through the client type
// NewUniversalClient returns for a single address.
func TestConformanceUniversalClient(t *testing.T) {
	sharedClient(t)
	u := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{sharedAddr}})
	t.Cleanup(func() { u.Close() })
	prefix := testPrefix(t, u)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return redisstore.New(u, redisstore.WithPrefix(prefix))
	})
}

func TestKeysAndTTL(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	id := sessionstest.NewID()
	rec := sessions.Record{ID: id, Data: []byte(`{"a":1}`), UserID: "alice", Expiry: time.Now().Add(90 * time.Minute)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var sessKey, userKey string
	for _, k := range keys {
		switch {
		case k == prefix+"s:"+id:
			sessKey = k
		case strings.HasPrefix(k, prefix+"u:"):
			userKey = k
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
	if sessKey == "" || userKey == "" || strings.Contains(userKey, "alice") {
		t.Fatalf("keys = %q; want the session key and a hashed user key", keys)
	}
	for _, k := range []string{sessKey, userKey} {
		d, err := rdb.PTTL(ctx, k).Result()
		if err != nil || d < 89*time.Minute || d > 90*time.Minute {
			t.Errorf("PTTL(%s) = %v, %v; want about 90m", k, d, err)
		}
	}
	// Update moves the TTL with the Expiry, and never shortens the index's.
	rec.Expiry = time.Now().Add(10 * time.Minute)
	if found, err := s.Update(ctx, rec); !found || err != nil {
		t.Fatal(found, err)
	}
	if d := rdb.PTTL(ctx, sessKey).Val(); d > 10*time.Minute || d < 9*time.Minute {
		t.Errorf("session PTTL after Update = %v; want about 10m", d)
	}
	if d := rdb.PTTL(ctx, userKey).Val(); d < 89*time.Minute {
		t.Errorf("index PTTL after a shorter Update = %v; want still about 90m", d)
	}
}

func TestCorruptValue(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	id := sessionstest.NewID()
	rdb.Set(context.Background(), prefix+"s:"+id, "no length prefix", time.Minute)
	if _, _, err := s.Find(context.Background(), id); !errors.Is(err, redisstore.ErrCorrupt) {
		t.Fatalf("Find = %v; want ErrCorrupt", err)
	}
}

func TestInvalidIDs(t *testing.T) {
	rdb := sharedClient(t)
	s := redisstore.New(rdb, redisstore.WithPrefix(testPrefix(t, rdb)))
	for _, id := range []string{"", strings.Repeat("a", redisstore.MaxIDLength+1)} {
		err := s.Create(context.Background(), sessions.Record{ID: id, Expiry: time.Now().Add(time.Hour)})
		if !errors.Is(err, redisstore.ErrInvalidID) {
			t.Errorf("Create(%d bytes) = %v; want ErrInvalidID", len(id), err)
		}
	}
}

// ownRedis is a redis-server this test starts on its own port, so that it
// can stop, restart and pause it without disturbing the shared one.
type ownRedis struct {
	t     *testing.T
	port  int
	dir   string
	extra []string // more redis-server arguments
	cmd   *exec.Cmd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startOwnRedis(t *testing.T, extra ...string) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is required: %v", err)
	}
	r := &ownRedis{t: t, port: freePort(t), dir: t.TempDir(), extra: extra}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server with an append-only file synced on every write,
// so a restart brings back every acknowledged write.
func (r *ownRedis) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(r.dir, "redis.log")}, r.extra...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("starting redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server on %s did not come up:\n%s", r.addr(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates the server (it flushes its append-only file on
// SIGTERM) and waits for it to exit.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

func TestOwnRedisStoreBasics(t *testing.T) {
	r := startOwnRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rdb.Close()
	s := redisstore.New(rdb)
	id := sessionstest.NewID()
	if err := s.Create(context.Background(), sessions.Record{ID: id, Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(context.Background(), redisstore.DefaultPrefix+"s:"+id).Val(); n != 1 {
		t.Fatalf("key with DefaultPrefix exists = %d; want 1", n)
	}
	// A server that has not seen the index script yet (new, restarted,
	// or after SCRIPT FLUSH) still gets the index written.
	ctx := context.Background()
	for i := range 3 {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		uid := sessionstest.NewID()
		if err := s.Create(ctx, sessions.Record{ID: uid, Data: []byte("u"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatalf("Create after SCRIPT FLUSH: %v", err)
		}
		rdb.ScriptFlush(ctx)
		if found, err := s.Update(ctx, sessions.Record{ID: uid, Data: []byte("u2"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}); !found || err != nil {
			t.Fatalf("Update after SCRIPT FLUSH = %v, %v", found, err)
		}
		if ids, err := s.UserSessions(ctx, "erin"); err != nil || len(ids) != i+1 {
			t.Fatalf("UserSessions = %d, %v; want %d", len(ids), err, i+1)
		}
	}
}

var errInjected = errors.New("injected: i/o timeout")

// failGet is a go-redis hook that, while key is set, gives the GET of that
// key errInjected after the server has answered it, as a timeout on that
// one reply would. pipeErr is what a pipeline containing it reports.
type failGet struct {
	key     atomic.Pointer[string]
	pipeErr error
	hits    atomic.Int64
}

func (h *failGet) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failGet) hit(cmd redis.Cmder) bool {
	k := h.key.Load()
	args := cmd.Args()
	if k == nil || cmd.Name() != "get" || len(args) != 2 || args[1] != *k {
		return false
	}
	cmd.SetErr(errInjected)
	h.hits.Add(1)
	return true
}

func (h *failGet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if h.hit(cmd) {
			return errInjected
		}
		return err
	}
}

func (h *failGet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if h.hit(c) {
				return h.pipeErr
			}
		}
		return err
	}
}

// TestUserSessionsGetFails makes the GET of one live session fail inside
// UserSessions' pipeline: UserSessions must return the error and keep the
// index entry, so that a later DeleteUser still logs that session out.
// pipeErr covers both things Exec can report when a command fails behind
// another: nothing, or the redis.Nil of an earlier missing key.
func TestUserSessionsGetFails(t *testing.T) {
	r := startOwnRedis(t)
	for _, tc := range []struct {
		name    string
		pipeErr error
	}{
		{"exec reports nil", nil},
		{"exec reports redis.Nil", redis.Nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &failGet{pipeErr: tc.pipeErr}
			rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
			defer rdb.Close()
			rdb.AddHook(h)
			prefix := testPrefix(t, rdb)
			s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
			ctx := context.Background()
			live, gone := sessionstest.NewID(), sessionstest.NewID()
			for _, id := range []string{live, gone} {
				rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "dave", Expiry: time.Now().Add(time.Hour)}
				if err := s.Create(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			// An index entry whose session is gone: its GET misses.
			if err := rdb.Del(ctx, prefix+"s:"+gone).Err(); err != nil {
				t.Fatal(err)
			}
			key := prefix + "s:" + live
			h.key.Store(&key)
			ids, err := s.UserSessions(ctx, "dave")
			if !errors.Is(err, errInjected) {
				t.Fatalf("UserSessions with a failed GET = %q, %v; want errInjected", ids, err)
			}
			if h.hits.Load() == 0 {
				t.Fatal("the hook never failed a GET: the test did not test anything")
			}
			h.key.Store(nil)
			if ids, err := s.UserSessions(ctx, "dave"); err != nil || len(ids) != 1 || ids[0] != live {
				t.Fatalf("UserSessions after the fault = %q, %v; want [%s]", ids, err, live)
			}
			if err := s.DeleteUser(ctx, "dave"); err != nil {
				t.Fatal(err)
			}
			if _, found, err := s.Find(ctx, live); found || err != nil {
				t.Fatalf("Find after DeleteUser = %v, %v; want the session gone", found, err)
			}
		})
	}
}

// TestCreateExistsGetFails: a Create that finds its id taken reads the
// existing session to decide whether to take back its index entry. When
// that GET fails, the entry stays: it may be the existing session's own.
func TestCreateExistsGetFails(t *testing.T) {
	r := startOwnRedis(t)
	h := &failGet{}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rdb.Close()
	rdb.AddHook(h)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	id := sessionstest.NewID()
	rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "erin", Expiry: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	key := prefix + "s:" + id
	h.key.Store(&key)
	if err := s.Create(ctx, rec); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("second Create = %v; want ErrExists", err)
	}
	if h.hits.Load() == 0 {
		t.Fatal("the hook never failed a GET: the test did not test anything")
	}
	h.key.Store(nil)
	if err := s.DeleteUser(ctx, "erin"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Find(ctx, id); found || err != nil {
		t.Fatalf("Find after DeleteUser = %v, %v; want the session gone", found, err)
	}
}

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

// resetProxy forwards TCP to Redis; while armed, a client write carrying a
// SET command is cut in half and both connections are reset, as a network
// failure in the middle of a write would.
type resetProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	resets atomic.Int64
}

func newResetProxy(t *testing.T, target string) *resetProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &resetProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	return p
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func (p *resetProxy) handle(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	go func() { io.Copy(c, up); c.Close() }()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if p.armed.Load() && bytes.Contains(bytes.ToLower(buf[:n]), []byte("\r\nset\r\n")) {
				up.Write(buf[:n/2])
				p.resets.Add(1)
				reset(up)
				reset(c)
				return
			}
			if _, err := up.Write(buf[:n]); err != nil {
				c.Close()
				return
			}
		}
		if err != nil {
			up.Close()
			return
		}
	}
}

// TestConnectionResetMidWrite cuts the connection in the middle of the
// session's SET: the request fails with ErrStore and a 500, no cookie
// points at unsaved data, and the stored session is what it was.
func TestConnectionResetMidWrite(t *testing.T) {
	shared := sharedClient(t)
	prefix := testPrefix(t, shared)
	p := newResetProxy(t, sharedAddr)
	rdb := redis.NewClient(&redis.Options{Addr: p.ln.Addr().String(), MaxRetries: 2})
	defer rdb.Close()
	a := newApp(t, redisstore.New(rdb, redisstore.WithPrefix(prefix)), nil)
	br := newBrowser(t)
	br.mustGet(a, "/set?k=v&v=before", "ok")
	cookie := br.cookie(a)

	p.armed.Store(true)
	code, _ := br.get(a, "/set?k=v&v=during")
	if code != http.StatusInternalServerError {
		t.Fatalf("update with the connection reset = %d; want 500", code)
	}
	if err := a.lastErr(); !errors.Is(err, sessions.ErrStore) {
		t.Fatalf("error handler got %v; want ErrStore", err)
	}
	if br.cookie(a) != cookie {
		t.Fatal("cookie changed by the failed update")
	}
	stranger := newBrowser(t)
	if code, _ := stranger.get(a, "/set?k=v&v=x"); code != http.StatusInternalServerError || stranger.cookie(a) != "" {
		t.Fatalf("create with the connection reset: status %d cookie %q; want 500 and none", code, stranger.cookie(a))
	}
	if p.resets.Load() == 0 {
		t.Fatal("the proxy never reset a connection: the test did not test anything")
	}
	p.armed.Store(false)
	br.mustGet(a, "/get?k=v", "before")
	br.mustGet(a, "/set?k=v&v=after", "ok")
	br.mustGet(a, "/get?k=v", "after")
	if keys, _ := shared.Keys(t.Context(), prefix+"s:*").Result(); len(keys) != 1 {
		t.Fatalf("Redis holds %d sessions; want 1 (nothing from the failed create)", len(keys))
	}
}

// TestRedisCluster builds a three-node Redis Cluster from its own
// redis-server processes and runs the conformance suite and a two-instance
// middleware check through a ClusterClient.
func TestRedisCluster(t *testing.T) {
	var addrs []string
	for range 3 {
		n := startOwnRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--appendonly", "no", "--cluster-node-timeout", "2000")
		addrs = append(addrs, n.addr())
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, _ := c.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster never became ready on %s:\n%s", a, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc.Close() })
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return redisstore.New(cc) })

	// Two application instances, each with its own cluster client.
	cc2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc2.Close() })
	a := newApp(t, redisstore.New(cc), nil)
	b := newApp(t, redisstore.New(cc2), nil)
	for range 20 {
		br := newBrowser(t)
		br.mustGet(a, "/login?u=frank", "ok")
		br.mustGet(b, "/who", "frank")
	}
	if ids, err := b.m.UserSessions(ctx, "frank"); err != nil || len(ids) != 20 {
		t.Fatalf("UserSessions = %d, %v; want 20", len(ids), err)
	}
	// The sessions really are spread over the nodes.
	used := 0
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		if n, _ := c.DBSize(ctx).Result(); n > 0 {
			used++
		}
		c.Close()
	}
	if used < 2 {
		t.Fatalf("keys live on %d node(s); want them spread over the cluster", used)
	}
	if err := a.m.DestroyUser(ctx, "frank"); err != nil {
		t.Fatal(err)
	}
	if ids, err := b.m.UserSessions(ctx, "frank"); err != nil || len(ids) != 0 {
		t.Fatalf("UserSessions after DestroyUser = %d, %v; want 0", len(ids), err)
	}
}

// TestRedisSentinel runs the store through a Sentinel-managed client: its
// own redis-server as the master and a redis-sentinel process watching it.
func TestRedisSentinel(t *testing.T) {
	master := startOwnRedis(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor sessions 127.0.0.1 %d 1\nsentinel down-after-milliseconds sessions 5000\n",
		port, dir, master.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel", "--logfile", filepath.Join(dir, "sentinel.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-sentinel: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sentinelAddr := fmt.Sprintf("127.0.0.1:%d", port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinelAddr})
	defer sc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), "sessions").Result()
		if err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(master.port) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Fatalf("sentinel does not report the master (%v, %v):\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "sessions", SentinelAddrs: []string{sentinelAddr}})
	t.Cleanup(func() { fc.Close() })
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return redisstore.New(fc) })

	a := newApp(t, redisstore.New(fc), nil)
	br := newBrowser(t)
	br.mustGet(a, "/login?u=grace", "ok")
	br.mustGet(a, "/who", "grace")
	// The data is on the master Sentinel named.
	direct := redis.NewClient(&redis.Options{Addr: master.addr()})
	defer direct.Close()
	if n := direct.DBSize(context.Background()).Val(); n == 0 {
		t.Fatal("nothing written to the master")
	}
}
