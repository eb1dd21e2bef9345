package sessions

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter commits the session before the first byte of the response
// leaves: on WriteHeader (other than 1xx), Write, Flush and ReadFrom. It
// implements Unwrap for http.ResponseController, and only those optional
// interfaces (http.Flusher, http.Hijacker, io.ReaderFrom) that the writer it
// wraps has, so handlers that probe for them see the truth.
//
// It always has FlushError, which http.ResponseController calls before it
// unwraps: a writer around ours that implements only Unwrap would otherwise
// let the controller flush the headers past the session. FlushError returns
// an error wrapping http.ErrNotSupported when nothing below can flush.
// Hijack through such a writer cannot be seen; changes after it are lost
// with the connection.
type responseWriter struct {
	w  http.ResponseWriter
	st *requestState
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational responses (103 Early Hints) precede the real one.
		rw.w.WriteHeader(code)
		return
	}
	if rw.st.beforeHeaders() != nil {
		return
	}
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if err := rw.st.beforeHeaders(); err != nil {
		return 0, err
	}
	return rw.w.Write(p)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// FlushError commits the session, then flushes the writer below.
func (rw *responseWriter) FlushError() error { return rw.flush() }

func (rw *responseWriter) flush() error {
	if err := rw.st.beforeHeaders(); err != nil {
		return err
	}
	return http.NewResponseController(rw.w).Flush()
}

func (rw *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := rw.w.(http.Hijacker).Hijack()
	if err == nil {
		// A hijacked connection carries no headers of ours; later changes
		// are reported as ErrHeadersWritten. A failed Hijack leaves the
		// response, and the session, as they were.
		rw.st.mu.Lock()
		rw.st.headersSent = true
		rw.st.mu.Unlock()
	}
	return conn, brw, err
}

func (rw *responseWriter) readFrom(r io.Reader) (int64, error) {
	if err := rw.st.beforeHeaders(); err != nil {
		return 0, err
	}
	return rw.w.(io.ReaderFrom).ReadFrom(r)
}

// The wrappers below add optional interfaces to a *responseWriter. Each is
// a struct of one pointer, so storing it in an http.ResponseWriter does
// not allocate.
type (
	rwF   struct{ *responseWriter }
	rwH   struct{ *responseWriter }
	rwR   struct{ *responseWriter }
	rwFH  struct{ *responseWriter }
	rwFR  struct{ *responseWriter }
	rwHR  struct{ *responseWriter }
	rwFHR struct{ *responseWriter }
)

func (w rwF) Flush() { w.flush() }

func (w rwH) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

func (w rwR) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

func (w rwFH) Flush()                                       { w.flush() }
func (w rwFH) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

func (w rwFR) Flush()                                { w.flush() }
func (w rwFR) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

func (w rwHR) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w rwHR) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

func (w rwFHR) Flush()                                       { w.flush() }
func (w rwFHR) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w rwFHR) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

// wrap returns w wrapped, with the same set of optional interfaces.
func (st *requestState) wrap(w http.ResponseWriter) http.ResponseWriter {
	st.rw = responseWriter{w: w, st: st}
	rw := &st.rw
	_, isF := w.(http.Flusher)
	_, isH := w.(http.Hijacker)
	_, isR := w.(io.ReaderFrom)
	switch {
	case isF && isH && isR:
		return rwFHR{rw}
	case isF && isH:
		return rwFH{rw}
	case isF && isR:
		return rwFR{rw}
	case isH && isR:
		return rwHR{rw}
	case isF:
		return rwF{rw}
	case isH:
		return rwH{rw}
	case isR:
		return rwR{rw}
	}
	return rw
}
