package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, rdb.Ping(ctx).Err(), "Redis at %s is required (start it with .ci/provision.sh)", sharedAddr)
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

// TestMerge: overlapping requests through the middleware, on the real
// Redis, lose nothing.
func TestMerge(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
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
	rec := sessions.Record{ID: id, Data: []byte(`{"a":1}`), UserID: "alice", TTL: 90 * time.Minute}
	require.NoError(t, s.Create(ctx, rec))
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	var sessKey, userKey string
	for _, k := range keys {
		switch {
		case k == prefix+"s:"+id:
			sessKey = k
		case strings.HasPrefix(k, prefix+"x:"):
			userKey = k
		default:
			assert.Fail(t, "unexpected key", "%q", k)
		}
	}
	require.NotEmpty(t, sessKey, "keys = %q; want the session key", keys)
	require.NotEmpty(t, userKey, "keys = %q; want a user key", keys)
	require.NotContains(t, userKey, "alice", "the user key is hashed")
	for _, k := range []string{sessKey, userKey} {
		d, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assertBetween(t, d, 89*time.Minute, 90*time.Minute, "PTTL(%s)", k)
	}
	// Update moves the key's TTL with the record's, and never shortens the index's.
	rec.TTL, rec.Version = 10*time.Minute, 1
	found, err := s.Update(ctx, rec)
	require.NoError(t, err)
	require.True(t, found)
	d, err := rdb.PTTL(ctx, sessKey).Result()
	require.NoError(t, err)
	assertBetween(t, d, 9*time.Minute, 10*time.Minute, "session PTTL after Update")
	d, err = rdb.PTTL(ctx, userKey).Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, 89*time.Minute, "index PTTL after a shorter Update; want still about 90m")
}

// userIndex returns the members of the only user index under prefix, and
// the index's TTL.
func userIndex(t *testing.T, rdb *redis.Client, prefix string) ([]string, time.Duration) {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"x:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1, "user index keys")
	ids, err := rdb.ZRange(ctx, keys[0], 0, -1).Result()
	require.NoError(t, err)
	ttl, err := rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	return ids, ttl
}

// TestIndexPrunedOnSave: a save of a user's session drops the user's
// sessions that have expired from the index, so it never outgrows the
// user's live sessions.
func TestIndexPrunedOnSave(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	first := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: first, Data: []byte("x"), UserID: "frank", TTL: time.Hour}))
	short := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: short, Data: []byte("x"), UserID: "frank", TTL: 30 * time.Millisecond}))
	require.Eventually(t, func() bool {
		_, found, err := s.Find(ctx, short)
		return err == nil && !found
	}, 5*time.Second, 5*time.Millisecond, "the short session expires")
	long := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: long, Data: []byte("x"), UserID: "frank", TTL: time.Hour}))
	ids, ttl := userIndex(t, rdb, prefix)
	assert.ElementsMatch(t, []string{first, long}, ids, "the expired session is pruned from the index")
	assert.Greater(t, ttl, 59*time.Minute, "index TTL")
}

// TestDeleteOwnedLeavesNoIndexEntry: DeleteOwned removes the record's entry
// from its owner's index whatever the hint, so the index holds no garbage
// (UserSessions would hide it, but it would stay until pruned).
func TestDeleteOwnedLeavesNoIndexEntry(t *testing.T) {
	rdb := sharedClient(t)
	ctx := context.Background()
	for _, hint := range []string{"frank", "someone else", ""} {
		prefix := testPrefix(t, rdb)
		s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
		kept, gone := sessionstest.NewID(), sessionstest.NewID()
		for _, id := range []string{kept, gone} {
			require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), UserID: "frank", TTL: time.Hour}))
		}
		require.NoError(t, s.DeleteOwned(ctx, gone, hint))
		ids, _ := userIndex(t, rdb, prefix)
		assert.Equal(t, []string{kept}, ids, "frank's index after DeleteOwned(hint %q)", hint)
	}
}

// assertBetween checks that lo <= d <= hi.
func assertBetween(t *testing.T, d, lo, hi time.Duration, msg string, args ...any) {
	t.Helper()
	assert.GreaterOrEqual(t, d, lo, append([]any{msg}, args...)...)
	assert.LessOrEqual(t, d, hi, append([]any{msg}, args...)...)
}

func TestCorruptValue(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	id := sessionstest.NewID()
	require.NoError(t, rdb.Set(context.Background(), prefix+"s:"+id, "no length prefix", time.Minute).Err())
	_, _, err := s.Find(context.Background(), id)
	require.ErrorIs(t, err, redisstore.ErrCorrupt)
}

func TestInvalidIDs(t *testing.T) {
	rdb := sharedClient(t)
	s := redisstore.New(rdb, redisstore.WithPrefix(testPrefix(t, rdb)))
	for _, id := range []string{"", strings.Repeat("a", redisstore.MaxIDLength+1)} {
		err := s.Create(context.Background(), sessions.Record{ID: id, TTL: time.Hour})
		assert.ErrorIs(t, err, redisstore.ErrInvalidID, "Create(%d bytes)", len(id))
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
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startOwnRedis(t *testing.T, extra ...string) *ownRedis {
	t.Helper()
	_, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is required")
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
	require.NoError(r.t, r.cmd.Start(), "starting redis-server")
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			require.Fail(r.t, "redis-server did not come up", "on %s:\n%s", r.addr(), log)
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
	require.NoError(t, s.Create(context.Background(), sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour}))
	n, err := rdb.Exists(context.Background(), redisstore.DefaultPrefix+"s:"+id).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "key with DefaultPrefix exists")
	// A server that has not seen the index script yet (new, restarted,
	// or after SCRIPT FLUSH) still gets the index written.
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, rdb.ScriptFlush(ctx).Err())
		uid := sessionstest.NewID()
		err := s.Create(ctx, sessions.Record{ID: uid, Data: []byte("u"), UserID: "erin", TTL: time.Hour})
		require.NoError(t, err, "Create after SCRIPT FLUSH")
		require.NoError(t, rdb.ScriptFlush(ctx).Err())
		found, err := s.Update(ctx, sessions.Record{ID: uid, Data: []byte("u2"), UserID: "erin", TTL: time.Hour, Version: 1})
		require.NoError(t, err, "Update after SCRIPT FLUSH")
		require.True(t, found, "Update after SCRIPT FLUSH")
		ids, err := s.UserSessions(ctx, "erin")
		require.NoError(t, err)
		require.Len(t, ids, i+1, "UserSessions")
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
	rec := sessions.Record{ID: id, Data: []byte("x"), UserID: "erin", TTL: time.Hour}
	require.NoError(t, s.Create(ctx, rec))
	key := prefix + "s:" + id
	h.key.Store(&key)
	require.ErrorIs(t, s.Create(ctx, rec), sessions.ErrExists, "second Create")
	require.NotZero(t, h.hits.Load(), "the hook never failed a GET: the test did not test anything")
	h.key.Store(nil)
	require.NoError(t, s.DeleteUser(ctx, "erin"))
	_, found, err := s.Find(ctx, id)
	require.NoError(t, err, "Find after DeleteUser")
	assert.False(t, found, "Find after DeleteUser; want the session gone")
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
	require.NoError(t, err)
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
	require.NoError(b.t, err, "GET %s", path)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func (b *browser) mustGet(a *app, path, want string) {
	b.t.Helper()
	code, body := b.get(a, path)
	require.Equal(b.t, http.StatusOK, code, "GET %s: status (body %q)", path, body)
	require.Equal(b.t, want, body, "GET %s: body", path)
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
	require.NotEqual(t, a.srv.URL, b.srv.URL, "the two instances share a server")

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
	require.NoError(t, err)
	require.Len(t, ids, 3, "UserSessions(bob)")
	require.NoError(t, b.m.DestroyUser(context.Background(), "bob"))
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
		assert.NoError(t, err)
		done <- resp
	}()
	<-loaded
	br.mustGet(a, "/logout", "ok")
	close(release)
	resp := <-done
	require.NotNil(t, resp, "the slow request failed")
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			assert.Negative(t, c.MaxAge, "slow writer got a session cookie after logout")
		}
	}
	keys, err := rdb.Keys(context.Background(), prefix+"s:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "Redis holds sessions; the slow writer recreated the logged-out one")
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
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
		require.Equal(t, http.StatusInternalServerError, code, "GET %s with Redis down", path)
		require.ErrorIs(t, a.lastErr(), sessions.ErrStore, "error handler")
		require.Equal(t, cookie, br.cookie(a), "GET %s with Redis down changed the cookie", path)
	}
	// A new visitor gets no cookie for a session that was never saved.
	stranger := newBrowser(t)
	code, _ := stranger.get(a, "/set?k=x&v=1")
	require.Equal(t, http.StatusInternalServerError, code, "new session with Redis down")
	require.Empty(t, stranger.cookie(a), "new session with Redis down: cookie")

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
			require.NoError(t, admin.Do(context.Background(), "CLIENT", "PAUSE", 3000, "ALL").Err())
			for _, path := range []string{"/get?k=v", "/set?k=v&v=during"} {
				code, _ := br.get(a, path)
				require.Equal(t, http.StatusInternalServerError, code, "GET %s while Redis is paused", path)
				err := a.lastErr()
				require.ErrorIs(t, err, sessions.ErrStore, "error handler")
				require.True(t, tc.timeout(err), "error handler got %v; want it caused by the timeout", err)
				require.Equal(t, cookie, br.cookie(a), "cookie changed while Redis was paused")
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
	require.NoError(t, err)
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

// isWrite reports whether b holds a command that writes a session: SET
// (Create) or EVALSHA/EVAL (Update's version check and write).
func isWrite(b []byte) bool {
	b = bytes.ToLower(b)
	for _, cmd := range []string{"set", "evalsha", "eval"} {
		if bytes.Contains(b, []byte("\r\n"+cmd+"\r\n")) {
			return true
		}
	}
	return false
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
			if p.armed.Load() && isWrite(buf[:n]) {
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
	require.Equal(t, http.StatusInternalServerError, code, "update with the connection reset")
	require.ErrorIs(t, a.lastErr(), sessions.ErrStore, "error handler")
	require.Equal(t, cookie, br.cookie(a), "cookie changed by the failed update")
	stranger := newBrowser(t)
	code, _ = stranger.get(a, "/set?k=v&v=x")
	require.Equal(t, http.StatusInternalServerError, code, "create with the connection reset")
	require.Empty(t, stranger.cookie(a), "create with the connection reset: cookie")
	require.NotZero(t, p.resets.Load(), "the proxy never reset a connection: the test did not test anything")
	p.armed.Store(false)
	br.mustGet(a, "/get?k=v", "before")
	br.mustGet(a, "/set?k=v&v=after", "ok")
	br.mustGet(a, "/get?k=v", "after")
	keys, err := shared.Keys(t.Context(), prefix+"s:*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 1, "Redis sessions (nothing from the failed create)")
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
	require.NoError(t, err, "redis-cli --cluster create:\n%s", out)
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, _ := c.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			require.False(t, time.Now().After(deadline), "cluster never became ready on %s:\n%s", a, info)
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
	ids, err := b.m.UserSessions(ctx, "frank")
	require.NoError(t, err)
	require.Len(t, ids, 20, "UserSessions")
	// The sessions really are spread over the nodes.
	used := 0
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		n, err := c.DBSize(ctx).Result()
		c.Close()
		require.NoError(t, err)
		if n > 0 {
			used++
		}
	}
	require.GreaterOrEqual(t, used, 2, "nodes holding keys; want them spread over the cluster")
	require.NoError(t, a.m.DestroyUser(ctx, "frank"))
	ids, err = b.m.UserSessions(ctx, "frank")
	require.NoError(t, err)
	assert.Empty(t, ids, "UserSessions after DestroyUser")
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
	require.NoError(t, os.WriteFile(conf, []byte(body), 0o600))
	cmd := exec.Command("redis-server", conf, "--sentinel", "--logfile", filepath.Join(dir, "sentinel.log"))
	require.NoError(t, cmd.Start(), "starting redis-sentinel")
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
			require.Fail(t, "sentinel does not report the master", "%v, %v:\n%s", addr, err, log)
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
	n, err := direct.DBSize(context.Background()).Result()
	require.NoError(t, err)
	assert.NotZero(t, n, "nothing written to the master")
}

// lcApp is an instance serving the lifecycle calls: GET /?... does, in
// this order, login=USER, remember=1|0, renew, set=K=V, pop=K, logout,
// flash=MSG, flashes, destroy=ID, and replies with lcState (list adds the
// user's sessions).
type lcApp struct {
	m   *sessions.Middleware
	srv *httptest.Server
}

type lcState struct {
	ID       string                 `json:"id"`
	New      bool                   `json:"new"`
	Expires  time.Time              `json:"expires"`
	User     string                 `json:"user"`
	Values   map[string]any         `json:"values"`
	Popped   string                 `json:"popped"`
	Flashes  []sessions.Flash       `json:"flashes"`
	Sessions []sessions.SessionInfo `json:"sessions"`
	Err      string                 `json:"err"`
}

func newLCApp(t *testing.T, store sessions.Store) *lcApp {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{SecretKey: mwKey, Store: store, BrowserSession: true, MaxAge: time.Hour})
	require.NoError(t, err)
	a := &lcApp{m: m}
	a.srv = httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, q := r.Context(), r.URL.Query()
		s, err := sessions.GetSession(ctx)
		if err != nil {
			return
		}
		var out lcState
		note := func(err error) {
			if err != nil && out.Err == "" {
				out.Err = err.Error()
			}
		}
		if u := q.Get("login"); u != "" {
			note(sessions.Login(ctx, u))
		}
		if v := q.Get("remember"); v != "" {
			note(sessions.RememberMe(ctx, v == "1"))
		}
		if q.Has("renew") {
			note(sessions.Renew(ctx))
		}
		for _, kv := range q["set"] {
			k, v, _ := strings.Cut(kv, "=")
			s.Set(k, v)
		}
		if k := q.Get("pop"); k != "" {
			out.Popped, _ = sessions.Pop[string](s, k)
		}
		if q.Has("logout") {
			note(sessions.Logout(ctx))
		}
		if f := q.Get("flash"); f != "" {
			s.AddFlash("info", f)
		}
		if q.Has("flashes") {
			out.Flashes = s.Flashes()
		}
		if q.Has("list") {
			out.Sessions, err = m.UserSessions(ctx, s.UserID())
			note(err)
		}
		if id := q.Get("destroy"); id != "" {
			note(m.DestroySession(ctx, s.UserID(), id))
		}
		out.ID, out.New, out.User, out.Expires = s.ID(), s.IsNew(), s.UserID(), s.Expires()
		out.Values = map[string]any{}
		for _, k := range s.Keys() {
			out.Values[k], _ = s.Get(k)
		}
		json.NewEncoder(w).Encode(out)
	})))
	t.Cleanup(a.srv.Close)
	return a
}

// lcClient is a browser holding the session cookie, and the Set-Cookie of
// its last response.
type lcClient struct {
	t       *testing.T
	ua      string
	cookie  string
	lastSet *http.Cookie
}

func (c *lcClient) get(a *lcApp, query string) lcState {
	c.t.Helper()
	req, err := http.NewRequest("GET", a.srv.URL+"/?"+query, nil)
	require.NoError(c.t, err)
	req.Header.Set("User-Agent", c.ua)
	if c.cookie != "" {
		req.Header.Set("Cookie", "session="+c.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "GET /?%s", query)
	c.lastSet = nil
	for _, sc := range resp.Cookies() {
		if sc.Name == "session" {
			c.lastSet, c.cookie = sc, sc.Value
			if sc.MaxAge < 0 {
				c.cookie = ""
			}
		}
	}
	var st lcState
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(&st))
	require.Empty(c.t, st.Err, "GET /?%s", query)
	return st
}

// TestLifecycle: remember-me, Renew, Pop, the session's id, IsNew and
// Expires, UserSessions and DestroySession on the real Redis, through two
// instances sharing it.
func TestLifecycle(t *testing.T) {
	rdb := sharedClient(t)
	prefix := testPrefix(t, rdb)
	a := newLCApp(t, redisstore.New(rdb, redisstore.WithPrefix(prefix)))
	b := newLCApp(t, redisstore.New(rdb, redisstore.WithPrefix(prefix)))
	user := "ann-" + randomHex(4)

	t.Run("RememberMe", func(t *testing.T) {
		c := &lcClient{t: t}
		c.get(a, "login="+user)
		assert.Zero(t, c.lastSet.MaxAge, "BrowserSession")
		c.get(a, "remember=1")
		assert.Equal(t, 3600, c.lastSet.MaxAge)
		c.get(b, "set=k=v")
		assert.Equal(t, 3600, c.lastSet.MaxAge, "kept by a later write on the other instance")
		c.get(b, "remember=0")
		assert.Zero(t, c.lastSet.MaxAge, "removed")
		c.get(a, "set=k=w")
		assert.Zero(t, c.lastSet.MaxAge, "removal kept")
		c.get(a, "logout")
	})
	t.Run("RenewAndID", func(t *testing.T) {
		c := &lcClient{t: t}
		first := c.get(a, "set=a=1")
		assert.True(t, first.New)
		again := c.get(b, "")
		assert.Equal(t, first.ID, again.ID, "stable across requests and instances")
		assert.False(t, again.New)
		in := c.get(a, "login="+user+"&remember=1&set=cart=3&flash=hi")
		assert.NotEqual(t, first.ID, in.ID, "Login changes the id")
		assert.True(t, in.New)
		old := &lcClient{t: t, cookie: c.cookie}
		renewed := c.get(b, "renew")
		assert.NotEqual(t, in.ID, renewed.ID, "Renew changes the id")
		assert.Equal(t, 3600, c.lastSet.MaxAge, "remember-me kept by Renew")
		st := c.get(a, "flashes")
		assert.Equal(t, renewed.ID, st.ID)
		assert.Equal(t, user, st.User)
		assert.Equal(t, map[string]any{"cart": "3"}, st.Values)
		assert.Equal(t, []sessions.Flash{{Category: "info", Message: "hi"}}, st.Flashes)
		assert.WithinDuration(t, time.Now().Add(time.Hour), st.Expires, 5*time.Second, "Expires: MaxAge from the last write")
		dead := old.get(b, "")
		assert.Empty(t, dead.User, "the old cookie is dead")
		assert.Empty(t, dead.Values)
		c.get(a, "logout")
	})
	t.Run("Pop", func(t *testing.T) {
		c := &lcClient{t: t}
		c.get(a, "set=token=t1")
		assert.Equal(t, "t1", c.get(b, "pop=token").Popped)
		assert.Empty(t, c.get(a, "pop=token").Popped, "read once")
	})
	t.Run("UserSessionsAndDestroySession", func(t *testing.T) {
		laptop, phone, bob := &lcClient{t: t, ua: "Laptop"}, &lcClient{t: t, ua: "Phone"}, &lcClient{t: t, ua: "Bob"}
		l := laptop.get(a, "login="+user)
		p := phone.get(b, "login="+user)
		bb := bob.get(a, "login=bob-"+randomHex(4))
		st := laptop.get(b, "list")
		require.Len(t, st.Sessions, 2)
		byUA := map[string]sessions.SessionInfo{}
		for _, s := range st.Sessions {
			byUA[s.UserAgent] = s
		}
		assert.Equal(t, l.ID, byUA["Laptop"].ID)
		assert.True(t, byUA["Laptop"].Current, "this device")
		assert.Equal(t, p.ID, byUA["Phone"].ID)
		assert.False(t, byUA["Phone"].Current)
		assert.False(t, byUA["Phone"].Created.IsZero())

		err := a.m.DestroySession(context.Background(), user, bb.ID)
		require.ErrorIs(t, err, sessions.ErrNoSuchSession, "another user's session")
		assert.Equal(t, bb.User, bob.get(b, "").User, "nothing ended")

		laptop.get(a, "destroy="+p.ID)
		assert.Empty(t, phone.get(b, "").User, "the phone is logged out")
		assert.Equal(t, user, laptop.get(b, "").User, "the laptop is not")
		assert.Len(t, laptop.get(a, "list").Sessions, 1)
	})
}
