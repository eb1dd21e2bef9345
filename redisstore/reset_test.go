package redisstore_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/redisstore"
	"github.com/redis/go-redis/v9"
)

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
