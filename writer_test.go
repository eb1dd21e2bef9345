package sessions

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteBack(t *testing.T) {
	tests := []struct {
		name string
		send func(t *testing.T, w http.ResponseWriter)
	}{
		{"WriteHeader", func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }},
		{"Write", func(t *testing.T, w http.ResponseWriter) { io.WriteString(w, "body") }},
		{"Flush", func(t *testing.T, w http.ResponseWriter) { w.(http.Flusher).Flush() }},
		{"ResponseController.Flush", func(t *testing.T, w http.ResponseWriter) {
			assert.NoError(t, http.NewResponseController(w).Flush(), "Flush")
		}},
		{"ReadFrom", func(t *testing.T, w http.ResponseWriter) {
			_, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("body"))
			assert.NoError(t, err, "ReadFrom")
		}},
		{"io.Copy", func(t *testing.T, w http.ResponseWriter) { io.Copy(w, strings.NewReader("body")) }},
		{"end of handler", func(t *testing.T, w http.ResponseWriter) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEnv(t, SessionConfig{})
			var afterSend http.Header
			srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/set":
					MustSession(t, r).Set("k", "v")
					tt.send(t, w)
					afterSend = w.Header().Clone()
					// A late header proves the response had gone out.
					w.Header().Set("X-Late", "1")
				case "/get":
					v, _ := GetAs[string](MustSession(t, r), "k")
					io.WriteString(w, v)
				}
			}))
			resp := srv.Get("/set")
			if tt.name != "end of handler" {
				require.Empty(t, resp.Header.Get("X-Late"), "test is broken: headers were not sent by %s", tt.name)
			}
			require.NotEmpty(t, resp.Header.Get("Set-Cookie"), "no Set-Cookie after %s (headers seen by the handler: %v)", tt.name, afterSend)
			assert.Equal(t, "v", srv.Get("/get").Body, "the next request")
			assert.Empty(t, e.Errors(), "error handler calls")
		})
	}
}

// An informational response (103 Early Hints) precedes the real one: it
// does not commit the session, and changes after it are still saved.
func TestInformationalResponseDoesNotCommit(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		if r.URL.Path == "/get" {
			fmt.Fprint(w, s.Keys())
			return
		}
		s.Set("a", 1)
		w.Header().Add("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		s.Set("b", 2)
		io.WriteString(w, "body")
	}))
	resp := srv.Get("/set")
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.Len(t, resp.Header.Values("Set-Cookie"), 1)
	assert.Equal(t, "[a b]", srv.Get("/get").Body, "saved keys")
	assert.Empty(t, e.Errors(), "error handler calls")
}

func TestHijackAndResponseController(t *testing.T) {
	for _, how := range []string{"Hijacker", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			e := NewEnv(t, SessionConfig{})
			srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				MustSession(t, r).Set("k", "v")
				rc := http.NewResponseController(w)
				assert.NoError(t, rc.SetWriteDeadline(time.Now().Add(time.Minute)), "SetWriteDeadline")
				assert.NoError(t, rc.SetReadDeadline(time.Now().Add(time.Minute)), "SetReadDeadline")
				var conn net.Conn
				var bw *bufio.ReadWriter
				var err error
				if how == "Hijacker" {
					conn, bw, err = w.(http.Hijacker).Hijack()
				} else {
					conn, bw, err = rc.Hijack()
				}
				if !assert.NoError(t, err, "Hijack") {
					return
				}
				defer conn.Close()
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				bw.Flush()
			}))
			resp := srv.Get("/")
			assert.Equal(t, "hijacked", resp.Body)
			// The change could not be sent on a hijacked connection: it is
			// reported, not silently lost.
			errs := e.Errors()
			require.Len(t, errs, 1, "error handler calls")
			assert.ErrorIs(t, errs[0], ErrHeadersWritten)
		})
	}
}

// Inner writers with each combination of the optional interfaces.
type innerWriter struct{ rec *httptest.ResponseRecorder }

func (w *innerWriter) Header() http.Header { return w.rec.Header() }

func (w *innerWriter) Write(p []byte) (int, error) { return w.rec.Write(p) }

func (w *innerWriter) WriteHeader(code int) { w.rec.WriteHeader(code) }

type flushPart struct{ flushed *int }

func (f flushPart) Flush() { *f.flushed++ }

type hijackPart struct{}

func (hijackPart) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("inner writer: hijack failed")
}

type readFromPart struct{ w *innerWriter }

func (r readFromPart) ReadFrom(src io.Reader) (int64, error) { return io.Copy(r.w.rec, src) }

func TestWrapperClaimsOnlyInnerInterfaces(t *testing.T) {
	for mask := range 8 {
		f, h, rf := mask&1 != 0, mask&2 != 0, mask&4 != 0
		name := fmt.Sprintf("flusher=%v,hijacker=%v,readerFrom=%v", f, h, rf)
		t.Run(name, func(t *testing.T) {
			base := &innerWriter{rec: httptest.NewRecorder()}
			flushes := 0
			fp, hp, rp := flushPart{&flushes}, hijackPart{}, readFromPart{base}
			var inner http.ResponseWriter
			switch {
			case f && h && rf:
				inner = struct {
					*innerWriter
					flushPart
					hijackPart
					readFromPart
				}{base, fp, hp, rp}
			case f && h:
				inner = struct {
					*innerWriter
					flushPart
					hijackPart
				}{base, fp, hp}
			case f && rf:
				inner = struct {
					*innerWriter
					flushPart
					readFromPart
				}{base, fp, rp}
			case h && rf:
				inner = struct {
					*innerWriter
					hijackPart
					readFromPart
				}{base, hp, rp}
			case f:
				inner = struct {
					*innerWriter
					flushPart
				}{base, fp}
			case h:
				inner = struct {
					*innerWriter
					hijackPart
				}{base, hp}
			case rf:
				inner = struct {
					*innerWriter
					readFromPart
				}{base, rp}
			default:
				inner = base
			}
			e := NewEnv(t, SessionConfig{})
			r := httptest.NewRequest("GET", "/", nil)
			e.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, gotF := w.(http.Flusher)
				_, gotH := w.(http.Hijacker)
				_, gotR := w.(io.ReaderFrom)
				assert.Equal(t, f, gotF, "wrapper claims http.Flusher")
				assert.Equal(t, h, gotH, "wrapper claims http.Hijacker")
				assert.Equal(t, rf, gotR, "wrapper claims io.ReaderFrom")
				uw, ok := w.(interface{ Unwrap() http.ResponseWriter })
				if assert.True(t, ok, "wrapper has no Unwrap") {
					assert.Equal(t, inner, uw.Unwrap(), "Unwrap must return the inner writer")
				}
				MustSession(t, r).Set("k", "v")
				err := http.NewResponseController(w).Flush()
				if f {
					assert.NoError(t, err, "ResponseController.Flush")
				} else {
					assert.ErrorIs(t, err, http.ErrNotSupported, "ResponseController.Flush without a Flusher")
				}
				// The inner Hijack fails: the response, and the session,
				// must stay as they were.
				_, _, err = http.NewResponseController(w).Hijack()
				if h {
					assert.EqualError(t, err, "inner writer: hijack failed", "ResponseController.Hijack")
				} else {
					assert.ErrorIs(t, err, http.ErrNotSupported, "ResponseController.Hijack without a Hijacker")
				}
			})).ServeHTTP(inner, r)
			if f {
				assert.Equal(t, 1, flushes, "inner Flush calls")
			}
			assert.NotNil(t, testkit.SetCookie(t, base.rec.Header(), "session"), "session not written")
		})
	}
}

// unwrapOnly is an outer middleware's writer that implements only Unwrap,
// the pattern http.ResponseController recommends.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestFlushThroughControllerAndUnwrapOnlyWriterCommits(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	h := e.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("cart", "42")
		assert.NoError(t, http.NewResponseController(w).Flush(), "Flush")
		w.Write([]byte("streamed"))
	}))
	srv := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(unwrapOnly{w}, r)
	}))
	res := srv.Get("/")
	assert.NotEmpty(t, res.Header.Get("Set-Cookie"), "no Set-Cookie after Set and a controller Flush")
	assert.Empty(t, e.Errors(), "error handler calls")
}
