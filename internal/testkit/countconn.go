package testkit

import (
	"net"
	"sync/atomic"
)

// CountWrites returns c counting its writes in n. On a client's connection
// to a database each write is one round trip, as the client then waits for
// the server's answer.
func CountWrites(c net.Conn, n *atomic.Int64) net.Conn { return countingConn{c, n} }

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}
