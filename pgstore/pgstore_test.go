package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverAddr is the PostgreSQL every test uses. A server that does not
// answer fails the tests; nothing is skipped.
const serverAddr = "127.0.0.1:5432"

func dsn(addr string) string {
	return "postgres://postgres@" + addr + "/test?sslmode=disable&connect_timeout=5"
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newPool connects to addr (the server, or a proxy in front of it) and
// fails the test if the server does not answer. Each mod changes the
// pool's configuration first.
func newPool(t testing.TB, addr string, mods ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(addr))
	require.NoError(t, err)
	for _, mod := range mods {
		mod(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, pool.Ping(ctx), "PostgreSQL at %s does not answer (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", addr)
	return pool
}

func randomTable() string {
	var b [6]byte
	rand.Read(b[:])
	return "sessionstest_" + hex.EncodeToString(b[:])
}

// newTable returns a fresh, migrated table name on pool, dropped when the
// test ends.
func newTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	table := randomTable()
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	require.NoError(t, s.Migrate(ctxT(t)))
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), `DROP TABLE IF EXISTS "`+table+`"`)
		assert.NoError(t, err)
	})
	return table
}

// newStore returns a store on a fresh table of the server.
func newStore(t testing.TB, opts ...pgstore.Option) (*pgstore.Store, *pgxpool.Pool, string) {
	t.Helper()
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	s := pgstore.New(pool, append([]pgstore.Option{pgstore.WithTable(table)}, opts...)...)
	t.Cleanup(func() { s.Close() })
	return s, pool, table
}

func TestConformance(t *testing.T) {
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		s := pgstore.New(pool, pgstore.WithTable(table))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMiddlewareMerge(t *testing.T) {
	pool := newPool(t, serverAddr)
	table := newTable(t, pool)
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		return pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	})
}

func TestNewPanics(t *testing.T) {
	assert.PanicsWithValue(t, "pgstore: nil pool", func() { pgstore.New(nil) })
}

// TestSharedDatabase runs two stores, with pools of their own, on one
// table, as two application instances would.
func TestSharedDatabase(t *testing.T) {
	a, _, table := newStore(t)
	b := pgstore.New(newPool(t, serverAddr), pgstore.WithTable(table))
	t.Cleanup(func() { b.Close() })
	ctx := ctxT(t)
	id := sessionstest.NewID()
	require.NoError(t, a.Create(ctx, sessions.Record{ID: id, Data: []byte("from a"), TTL: time.Hour, UserID: "alice"}))

	got, found, err := b.Find(ctx, id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, sessions.Record{ID: id, Data: []byte("from a"), UserID: "alice", Version: 1}, got)

	got.Data, got.TTL = []byte("from b"), time.Hour
	found, err = b.Update(ctx, got)
	require.NoError(t, err)
	require.True(t, found)
	_, err = a.Update(ctx, sessions.Record{ID: id, Data: []byte("stale"), TTL: time.Hour, Version: 1})
	require.ErrorIs(t, err, sessions.ErrConflict)
	got, _, err = a.Find(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "from b", string(got.Data))
	assert.Equal(t, uint64(2), got.Version)

	ids, err := a.UserSessions(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids)
	require.NoError(t, b.DeleteUser(ctx, "alice"))
	_, found, err = a.Find(ctx, id)
	require.NoError(t, err)
	assert.False(t, found)
}

// TestExpiryByDatabaseClock checks that expires is the database's now()
// plus the TTL, whatever the Go process's clock says.
func TestExpiryByDatabaseClock(t *testing.T) {
	s, pool, table := newStore(t)
	ctx := ctxT(t)
	var before, after time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&before))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), TTL: 90 * time.Minute}))
	require.NoError(t, pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&after))
	var expires time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT expires FROM "`+table+`" WHERE id = $1`, []byte(id)).Scan(&expires))
	assert.False(t, expires.Before(before.Add(90*time.Minute)), "expires %v before the database's time at Create + TTL (%v)", expires, before.Add(90*time.Minute))
	assert.False(t, expires.After(after.Add(90*time.Minute)), "expires %v after the database's time after Create + TTL (%v)", expires, after.Add(90*time.Minute))
}

// TestDestroyUser ends every session of one user through the middleware,
// and only those.
func TestDestroyUser(t *testing.T) {
	s, _, _ := newStore(t)
	mw, err := sessions.New(sessions.SessionConfig{SecretKey: "sql-store-test-secret-0123456789abcdefXYZ", Store: s})
	require.NoError(t, err)
	srv := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.URL.Query().Get("login"); u != "" {
			require.NoError(t, sessions.Login(r.Context(), u))
			sess, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			sess.Set("n", 1)
		}
		u, _ := sessions.UserID(r.Context())
		w.Write([]byte(u))
	})))
	t.Cleanup(srv.Close)
	login := func(user string) *http.Cookie {
		resp, err := http.Get(srv.URL + "/?login=" + user)
		require.NoError(t, err)
		resp.Body.Close()
		require.Len(t, resp.Cookies(), 1)
		return resp.Cookies()[0]
	}
	whoami := func(c *http.Cookie) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.AddCookie(c)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	alice, bob := "alice-"+sessionstest.NewID()[:8], "bob-"+sessionstest.NewID()[:8]
	a1, a2, b1 := login(alice), login(alice), login(bob)
	require.Equal(t, alice, whoami(a1))
	ids, err := mw.UserSessions(ctxT(t), alice)
	require.NoError(t, err)
	assert.Len(t, ids, 2)

	require.NoError(t, mw.DestroyUser(ctxT(t), alice))
	assert.Equal(t, "", whoami(a1))
	assert.Equal(t, "", whoami(a2))
	assert.Equal(t, bob, whoami(b1))
	ids, err = mw.UserSessions(ctxT(t), alice)
	require.NoError(t, err)
	assert.Empty(t, ids)
}

// counter counts the writes made on its connections: each is one round
// trip, as the client then waits for the server's answer.
type counter struct{ writes atomic.Int64 }

type countingConn struct {
	net.Conn
	c *counter
}

func (c countingConn) Write(b []byte) (int, error) {
	c.c.writes.Add(1)
	return c.Conn.Write(b)
}

// counting makes a pool of one connection that counts its writes.
func counting(cnt *counter) func(*pgxpool.Config) {
	return func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		d := &net.Dialer{}
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c, cnt}, nil
		}
	}
}

// TestRoundTrips pins the round trips of each method once its statements
// are prepared on the pool's connection.
func TestRoundTrips(t *testing.T) {
	var cnt counter
	pool := newPool(t, serverAddr, counting(&cnt))
	table := newTable(t, pool)
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	ctx := ctxT(t)
	id, user := sessionstest.NewID(), "rt-user"
	rec := sessions.Record{ID: id, Data: []byte("x"), TTL: time.Hour, UserID: user}
	ops := []struct {
		name string
		want int64
		fn   func() error
	}{
		{"Create", 1, func() error { return s.Create(ctx, rec) }},
		{"Find", 1, func() error { _, _, err := s.Find(ctx, id); return err }},
		{"Update", 1, func() error { rec.Version++; _, err := s.Update(ctx, rec); return err }},
		{"UpdateConflict", 2, func() error {
			_, err := s.Update(ctx, sessions.Record{ID: id, Data: []byte("y"), TTL: time.Hour, Version: 99})
			if err == nil {
				t.Fatal("want a conflict")
			}
			return nil
		}},
		{"UserSessions", 1, func() error { _, err := s.UserSessions(ctx, user); return err }},
		{"Delete", 1, func() error { return s.Delete(ctx, id) }},
		{"UpdateGone", 2, func() error { _, err := s.Update(ctx, rec); return err }},
		{"DeleteUser", 1, func() error { return s.DeleteUser(ctx, user) }},
	}
	// A first pass prepares every statement on the pool's connections.
	for _, op := range ops {
		require.NoError(t, op.fn(), op.name)
	}
	id = sessionstest.NewID()
	rec.ID, rec.Version = id, 0
	for _, op := range ops {
		before := cnt.writes.Load()
		require.NoError(t, op.fn(), op.name)
		assert.Equal(t, op.want, cnt.writes.Load()-before, "round trips of %s", op.name)
	}
}
