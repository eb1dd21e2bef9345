package testkit_test

import (
	"bufio"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions/internal/testkit"
)

// echoServer answers each line it reads with the same line, until the
// test ends.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes a line on c and reads the echo, within d.
func roundTrip(c net.Conn, d time.Duration) (string, error) {
	if err := c.SetDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func dial(t *testing.T, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxyForwards(t *testing.T) {
	p := testkit.StartProxy(t, echoServer(t))
	got, err := roundTrip(dial(t, p.Addr()), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ping\n", got)
}

func TestProxyCut(t *testing.T) {
	p := testkit.StartProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	_, err := roundTrip(open, 5*time.Second)
	require.NoError(t, err)

	p.Cut()
	_, err = roundTrip(open, 5*time.Second)
	assert.Error(t, err, "an open connection is closed")
	_, err = roundTrip(dial(t, p.Addr()), 5*time.Second)
	assert.Error(t, err, "a new connection is refused")

	p.Restore()
	got, err := roundTrip(dial(t, p.Addr()), 5*time.Second)
	require.NoError(t, err, "after Restore")
	assert.Equal(t, "ping\n", got)
}

func TestProxyStall(t *testing.T) {
	p := testkit.StartProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	_, err := roundTrip(c, 5*time.Second)
	require.NoError(t, err)

	p.Stall()
	_, err = roundTrip(c, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "no answer while stalled")

	p.Restore()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	got, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err, "the held bytes flow after Restore")
	assert.Equal(t, "ping\n", got)
}

func TestCountWrites(t *testing.T) {
	var n atomic.Int64
	c := testkit.CountWrites(dial(t, echoServer(t)), &n)
	for range 3 {
		got, err := roundTrip(c, 5*time.Second)
		require.NoError(t, err)
		assert.Equal(t, "ping\n", got)
	}
	assert.Equal(t, int64(3), n.Load())
}
