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
type responseWriter struct {
	w  http.ResponseWriter
	st *state
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

func (rw *responseWriter) flush() error {
	if err := rw.st.beforeHeaders(); err != nil {
		return err
	}
	return http.NewResponseController(rw.w).Flush()
}

func (rw *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	// A hijacked connection carries no headers of ours; later changes are
	// reported as ErrHeadersWritten.
	rw.st.mu.Lock()
	rw.st.headersSent = true
	rw.st.mu.Unlock()
	return rw.w.(http.Hijacker).Hijack()
}

func (rw *responseWriter) readFrom(r io.Reader) (int64, error) {
	if err := rw.st.beforeHeaders(); err != nil {
		return 0, err
	}
	return rw.w.(io.ReaderFrom).ReadFrom(r)
}

type flusher struct{ *responseWriter }

func (f flusher) Flush()            { f.flush() }
func (f flusher) FlushError() error { return f.flush() }

type hijacker struct{ *responseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return h.hijack() }

type readerFrom struct{ *responseWriter }

func (r readerFrom) ReadFrom(src io.Reader) (int64, error) { return r.readFrom(src) }

// wrap returns w wrapped, with the same set of optional interfaces.
func (st *state) wrap(w http.ResponseWriter) http.ResponseWriter {
	rw := &responseWriter{w: w, st: st}
	_, isF := w.(http.Flusher)
	_, isH := w.(http.Hijacker)
	_, isR := w.(io.ReaderFrom)
	switch {
	case isF && isH && isR:
		return struct {
			*responseWriter
			flusher
			hijacker
			readerFrom
		}{rw, flusher{rw}, hijacker{rw}, readerFrom{rw}}
	case isF && isH:
		return struct {
			*responseWriter
			flusher
			hijacker
		}{rw, flusher{rw}, hijacker{rw}}
	case isF && isR:
		return struct {
			*responseWriter
			flusher
			readerFrom
		}{rw, flusher{rw}, readerFrom{rw}}
	case isH && isR:
		return struct {
			*responseWriter
			hijacker
			readerFrom
		}{rw, hijacker{rw}, readerFrom{rw}}
	case isF:
		return struct {
			*responseWriter
			flusher
		}{rw, flusher{rw}}
	case isH:
		return struct {
			*responseWriter
			hijacker
		}{rw, hijacker{rw}}
	case isR:
		return struct {
			*responseWriter
			readerFrom
		}{rw, readerFrom{rw}}
	}
	return rw
}
