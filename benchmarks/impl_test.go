package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkloads checks that every workload does what it says on every
// session for every implementation, with the same handlers and requests
// the benchmarks time: read gets the token back, write sends a Set-Cookie
// whose session holds the counter plus one, untouched sends no Set-Cookie.
func TestWorkloads(t *testing.T) {
	for _, im := range openAll(t) {
		for _, sess := range Sessions {
			t.Run(im.Name+"/"+sess.Name, func(t *testing.T) {
				if why := im.Refuses(sess); why != "" {
					// The benchmarks leave it out: it must really fail.
					w := serve(im.Handler(OpNew, sess, nil), "")
					assert.Equal(t, http.StatusInternalServerError, w.Code, "a refused session is sent (%s)", why)
					assert.Empty(t, w.Header().Values("Set-Cookie"))
					return
				}
				cookie := seedCookie(t, im, sess)

				var got string
				w := serve(im.Handler(OpRead, sess, &got), cookie)
				assert.Equal(t, ValCSRF, got, "read")
				assert.Equal(t, http.StatusNoContent, w.Code, "read")
				if im.Supports(OpLogin) { // this module: nothing changed, nothing sent
					assert.Empty(t, setCookieValue(t, w), "read")
				}

				w = serve(im.Handler(OpWrite, sess, nil), cookie)
				require.Equal(t, http.StatusNoContent, w.Code, "write: %s", w.Body)
				written := setCookieValue(t, w)
				require.NotEmpty(t, written, "write: no Set-Cookie")
				var counter string
				serve(im.Handler(OpCounter, sess, &counter), written)
				assert.Equal(t, fmt.Sprint(ValCounter+1), counter, "the counter after one write")

				w = serve(im.Handler(OpUntouched, sess, nil), cookie)
				assert.Equal(t, http.StatusNoContent, w.Code, "untouched")
				assert.Empty(t, setCookieValue(t, w), "untouched")
			})
		}
	}
}

// TestLoginLogout: the login and logout operations of this module's
// implementations log in and out.
func TestLoginLogout(t *testing.T) {
	for _, im := range openAll(t) {
		if !im.Supports(OpLogin) {
			continue
		}
		t.Run(im.Name, func(t *testing.T) {
			anon := seedCookie(t, im, Small)
			w := serve(im.Handler(OpLogin, Small, nil), anon)
			require.Equal(t, http.StatusNoContent, w.Code, "login: %s", w.Body)
			in := setCookieValue(t, w)
			require.NotEmpty(t, in, "login sends a new cookie")
			require.NotEqual(t, anon, in)
			w = serve(im.Handler(OpLogout, Small, nil), in)
			require.Equal(t, http.StatusNoContent, w.Code, "logout: %s", w.Body)
			c, err := http.ParseSetCookie(w.Header().Get("Set-Cookie"))
			require.NoError(t, err)
			assert.Negative(t, c.MaxAge, "logout deletes the cookie")
		})
	}
}

// TestCookieSizes: the sessions have the sizes their comments give; the
// near-limit one comes within 800 bytes of the limit in the formats that
// do not compress.
func TestCookieSizes(t *testing.T) {
	impls := openAll(t)
	for _, im := range impls {
		for _, sess := range Sessions {
			if im.Refuses(sess) != "" {
				continue
			}
			n := len(seedCookie(t, im, sess))
			t.Logf("%-22s %-10s cookie %4d bytes", im.Name, sess.Name, n)
			assert.LessOrEqual(t, n, 4096, "%s %s", im.Name, sess.Name)
			if sess == NearLimit && (im.Name == "ctxsession-starlette" || im.Name == "ctxsession-jwt") {
				assert.Greater(t, n, 4096-800, "%s %s", im.Name, sess.Name)
			}
		}
	}
	cart, err := json.Marshal(Cart.Values[len(Cart.Values)-1].Value)
	require.NoError(t, err)
	assert.InDelta(t, 1024, len(cart), 100, "the cart is about 1 KB of JSON")
}

// TestLeanHarness: the lean harness serves the workloads as the httptest
// one does.
func TestLeanHarness(t *testing.T) {
	for _, im := range openAll(t) {
		cookie := seedCookie(t, im, Small)
		var got string
		assert.True(t, leanServe(im.Handler(OpRead, Small, &got), cookie)(), "%s: lean read", im.Name)
		assert.Equal(t, ValCSRF, got, "%s: lean read", im.Name)
		proto := httptest.NewRequest(http.MethodGet, "/", nil)
		proto.Header.Set("Cookie", cookie)
		w := leanWriter{h: http.Header{}}
		r := *proto
		im.Handler(OpWrite, Small, nil).ServeHTTP(&w, &r)
		assert.Equal(t, http.StatusNoContent, w.code, "%s: lean write", im.Name)
		assert.Len(t, w.h.Values("Set-Cookie"), 1, "%s: lean write", im.Name)
	}
}

func TestFloorCodec(t *testing.T) {
	for _, sess := range Sessions {
		out, err := codecRoundTrip([]byte(Secret), sess)
		require.NoError(t, err)
		assert.Equal(t, ValCSRF, out[KeyCSRF])
		assert.Len(t, out, len(sess.Values))
	}
}

func TestMeasureFailsOnError(t *testing.T) {
	r := testing.Benchmark(func(b *testing.B) { measure(b, func() bool { return false }) })
	assert.Zero(t, r.N, "a failing operation fails the benchmark")
}

// TestCountingDialer: one command is one round trip, a pipeline of three
// is one, and INFO commandstats sees the commands. The client's connection
// handshakes are round trips too, so each kind of call runs once before it
// is counted, and no connection is dialled while counting.
func TestCountingDialer(t *testing.T) {
	var cd CountingDialer
	rdb := redis.NewClient(&redis.Options{Addr: DefaultRedisAddr, Dialer: cd.Dial})
	defer rdb.Close()
	ctx := context.Background()
	pipeline := func() error {
		pipe := rdb.Pipeline()
		for range 3 {
			pipe.Ping(ctx)
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	require.NoError(t, rdb.Ping(ctx).Err(), "Redis at %s", DefaultRedisAddr)
	require.NoError(t, pipeline())
	conns := cd.Conns()

	before := cd.RoundTrips()
	require.NoError(t, rdb.Ping(ctx).Err())
	assert.Equal(t, int64(1), cd.RoundTrips()-before, "one command")
	before = cd.RoundTrips()
	require.NoError(t, pipeline())
	assert.Equal(t, int64(1), cd.RoundTrips()-before, "a pipeline")
	assert.Equal(t, conns, cd.Conns(), "connections dialled while counting")

	stats, err := CommandStats(ctx, rdb)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, stats["ping"], int64(8))
}

func TestParseCommandStats(t *testing.T) {
	got, err := parseCommandStats("# Commandstats\r\ncmdstat_get:calls=2,usec=15,usec_per_call=7.50,rejected_calls=0,failed_calls=0\r\ncmdstat_evalsha:calls=10,usec=1\r\n")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"get": 2, "evalsha": 10}, got)
	_, err = parseCommandStats("cmdstat_get:usec=15\r\n")
	require.Error(t, err)
	_, err = parseCommandStats("cmdstat_get:calls=x,usec=15\r\n")
	require.Error(t, err)
}
