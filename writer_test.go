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
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}},
		{"ReadFrom", func(t *testing.T, w http.ResponseWriter) {
			if _, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("body")); err != nil {
				t.Errorf("ReadFrom: %v", err)
			}
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
			if tt.name != "end of handler" && resp.Header.Get("X-Late") != "" {
				t.Fatalf("test is broken: headers were not sent by %s", tt.name)
			}
			if resp.Header.Get("Set-Cookie") == "" {
				t.Fatalf("no Set-Cookie after %s (headers seen by the handler: %v)", tt.name, afterSend)
			}
			if got := srv.Get("/get").Body; got != "v" {
				t.Errorf("next request read %q, want v", got)
			}
			if errs := e.Errors(); len(errs) != 0 {
				t.Errorf("error handler called: %v", errs)
			}
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
	if resp.Status != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Errorf("status %d, Set-Cookie %q; want 200 and one cookie", resp.Status, resp.Header.Values("Set-Cookie"))
	}
	if got := srv.Get("/get").Body; got != "[a b]" {
		t.Errorf("saved keys %s, want [a b]", got)
	}
	if errs := e.Errors(); len(errs) != 0 {
		t.Errorf("error handler called: %v", errs)
	}
}

func TestHijackAndResponseController(t *testing.T) {
	for _, how := range []string{"Hijacker", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			e := NewEnv(t, SessionConfig{})
			srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				MustSession(t, r).Set("k", "v")
				rc := http.NewResponseController(w)
				if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetWriteDeadline: %v", err)
				}
				if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetReadDeadline: %v", err)
				}
				var conn net.Conn
				var bw *bufio.ReadWriter
				var err error
				if how == "Hijacker" {
					conn, bw, err = w.(http.Hijacker).Hijack()
				} else {
					conn, bw, err = rc.Hijack()
				}
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				bw.Flush()
			}))
			resp := srv.Get("/")
			if resp.Body != "hijacked" {
				t.Errorf("body %q, want hijacked", resp.Body)
			}
			// The change could not be sent on a hijacked connection: it is
			// reported, not silently lost.
			if errs := e.Errors(); len(errs) != 1 || !errors.Is(errs[0], ErrHeadersWritten) {
				t.Errorf("error handler got %v, want [ErrHeadersWritten]", errs)
			}
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
				if gotF != f || gotH != h || gotR != rf {
					t.Errorf("wrapper claims flusher=%v hijacker=%v readerFrom=%v, want %v %v %v", gotF, gotH, gotR, f, h, rf)
				}
				if uw, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok || uw.Unwrap() != inner {
					t.Errorf("Unwrap does not return the inner writer")
				}
				MustSession(t, r).Set("k", "v")
				err := http.NewResponseController(w).Flush()
				if f && err != nil {
					t.Errorf("ResponseController.Flush: %v", err)
				}
				if !f && !errors.Is(err, http.ErrNotSupported) {
					t.Errorf("ResponseController.Flush without a Flusher: err %v, want http.ErrNotSupported", err)
				}
				// The inner Hijack fails: the response, and the session,
				// must stay as they were.
				if _, _, err := http.NewResponseController(w).Hijack(); !h && !errors.Is(err, http.ErrNotSupported) {
					t.Errorf("ResponseController.Hijack without a Hijacker: err %v, want http.ErrNotSupported", err)
				} else if h && (err == nil || errors.Is(err, http.ErrNotSupported)) {
					t.Errorf("ResponseController.Hijack: err %v, want the inner writer's error", err)
				}
			})).ServeHTTP(inner, r)
			if f && flushes != 1 {
				t.Errorf("inner Flush called %d times, want 1", flushes)
			}
			if testkit.SetCookie(t, base.rec.Header(), "session") == nil {
				t.Errorf("session not written")
			}
		})
	}
}

// unwrapOnly is an outer middleware's writer that implements only Unwrap,
// the pattern http.ResponseController recommends.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestFlushThroughControllerAndUnwrapOnlyWriterCommits(t *testing.T) {
	var errs []error
	m, err := New(SessionConfig{SecretKey: TestKey,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := GetSession(r.Context())
		s.Set("cart", "42")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		w.Write([]byte("streamed"))
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(unwrapOnly{w}, r)
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Set-Cookie") == "" {
		t.Errorf("no Set-Cookie after Set and a controller Flush; error handler got %v", errs)
	}
}
