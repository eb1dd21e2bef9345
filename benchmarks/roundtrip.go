package benchmarks

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// A CountingDialer dials plain TCP connections that count round trips: a
// round trip is a write that follows a read (or is a connection's first),
// so a pipeline of commands sent together and answered together counts
// once however the client splits its writes. Set Env.Dial to its Dial.
type CountingDialer struct {
	trips atomic.Int64
	d     net.Dialer
	mu    sync.Mutex
	conns int
}

// Dial opens a counting connection.
func (c *CountingDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.conns++
	c.mu.Unlock()
	return &countingConn{Conn: conn, trips: &c.trips}, nil
}

// RoundTrips returns the round trips of every connection so far.
func (c *CountingDialer) RoundTrips() int64 { return c.trips.Load() }

// Conns returns the number of connections dialled so far.
func (c *CountingDialer) Conns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns
}

type countingConn struct {
	net.Conn
	trips   *atomic.Int64
	writing atomic.Bool // the last call was a Write
}

func (c *countingConn) Write(p []byte) (int, error) {
	if !c.writing.Swap(true) {
		c.trips.Add(1)
	}
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.writing.Store(false)
	return c.Conn.Read(p)
}
