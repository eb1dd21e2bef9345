package mysqlstore_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxy is a TCP proxy in front of the server that the test controls: Cut
// drops every connection and refuses new ones (the database went away),
// Stall holds all traffic (the database stopped answering).
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	down    bool
	resume  chan struct{} // closed when traffic may flow; replaced by Stall
	stopped bool
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{}), resume: make(chan struct{})}
	close(p.resume)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		return
	}
	go p.pipe(server, client)
	p.pipe(client, server)
}

// track registers c, or reports false when the proxy is down.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || p.stopped {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// pipe copies from src to dst, waiting while the proxy is stalled.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			resume := p.resume
			p.mu.Unlock()
			<-resume
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// stall holds every byte in both directions until restore.
func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resume = make(chan struct{})
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	select {
	case <-p.resume:
	default:
		close(p.resume)
	}
}

func (p *proxy) close() {
	p.restore()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.ln.Close()
	p.cut()
}

// calls is every method of the store, each returning its error. Find and
// Update also fail when they report found=true or found=false with a nil
// error: a database that went away is not a missing record.
func calls(s *mysqlstore.Store, id string) map[string]func(ctx context.Context) error {
	rec := sessions.Record{ID: id, Data: []byte("new"), TTL: time.Hour, UserID: "fault-user", Version: 1}
	return map[string]func(ctx context.Context) error{
		"Find": func(ctx context.Context) error {
			_, found, err := s.Find(ctx, id)
			if err == nil {
				return fmt.Errorf("nil error, found=%v", found)
			}
			return err
		},
		"Create": func(ctx context.Context) error {
			return s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: []byte("x"), TTL: time.Hour})
		},
		"Update": func(ctx context.Context) error {
			found, err := s.Update(ctx, rec)
			if err == nil {
				return fmt.Errorf("nil error, found=%v", found)
			}
			return err
		},
		"Delete":       func(ctx context.Context) error { return s.Delete(ctx, id) },
		"UserSessions": func(ctx context.Context) error { _, err := s.UserSessions(ctx, "fault-user"); return err },
		"DeleteUser":   func(ctx context.Context) error { return s.DeleteUser(ctx, "fault-user") },
		"Cleanup":      func(ctx context.Context) error { _, err := s.Cleanup(ctx); return err },
		"Migrate":      func(ctx context.Context) error { return s.Migrate(ctx) },
	}
}

// faultStore returns a store reaching the server through a proxy, and the
// id of a live record of fault-user in it.
func faultStore(t *testing.T) (*mysqlstore.Store, *proxy, string) {
	p := startProxy(t, serverAddr)
	db := openDB(t, "tcp", p.addr())
	table := newTable(t, openDB(t, "tcp", serverAddr))
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	t.Cleanup(func() { s.Close() })
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: id, Data: []byte("old"), TTL: time.Hour, UserID: "fault-user"}))
	return s, p, id
}

func TestDatabaseGone(t *testing.T) {
	s, p, id := faultStore(t)
	p.cut()
	for name, call := range calls(s, id) {
		assert.Error(t, call(ctxT(t)), "%s with the database gone", name)
	}
	// Back again, the store recovers and nothing was lost.
	p.restore()
	got, found, err := s.Find(ctxT(t), id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "old", string(got.Data))
}

func TestDatabaseStalled(t *testing.T) {
	s, p, id := faultStore(t)
	p.stall()
	for name, call := range calls(s, id) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := call(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%s with the database stalled", name)
	}
	// Back again, the store recovers. (The writes that timed out may
	// still reach the server now: the old record may be gone.)
	p.restore()
	fresh := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: fresh, Data: []byte("x"), TTL: time.Hour}))
	_, found, err := s.Find(ctxT(t), fresh)
	require.NoError(t, err)
	assert.True(t, found)
}

// TestRowLockedPastDeadline holds the record's row locked in another
// transaction, as a slow concurrent writer would: Update waits for it
// until the request's deadline, then returns the deadline's error. Whether
// the server still applies the abandoned UPDATE once the lock is released
// is not known to the caller (as with any database); either way the
// record is whole: the old data at version 1 or the new at version 2.
func TestRowLockedPastDeadline(t *testing.T) {
	s, db, table := newStore(t, mysqlstore.WithCleanupInterval(0))
	id := sessionstest.NewID()
	require.NoError(t, s.Create(ctxT(t), sessions.Record{ID: id, Data: []byte("old"), TTL: time.Hour}))
	tx, err := db.BeginTx(ctxT(t), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctxT(t), "SELECT 1 FROM `"+table+"` WHERE id = ? FOR UPDATE", []byte(id))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = s.Update(ctx, sessions.Record{ID: id, Data: []byte("new"), TTL: time.Hour, Version: 1})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, tx.Rollback())
	got, found, err := s.Find(ctxT(t), id)
	require.NoError(t, err)
	require.True(t, found)
	assert.Contains(t, []string{"old 1", "new 2"}, fmt.Sprint(string(got.Data), " ", got.Version))
}
