package sessions

import (
	"errors"
	"net/http"
)

// defaultErrorHandler logs err and, unless the headers are already gone,
// replies 500. A change that came too late (ErrHeadersWritten) is logged at
// warn level with what came late: the response itself was fine.
func (m *Middleware) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	if isHeadersWritten(err) {
		m.log.WarnContext(r.Context(), "sessions: change not saved", "err", err, "method", r.Method, "path", r.URL.Path)
		return
	}
	m.log.ErrorContext(r.Context(), "sessions: request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

func isHeadersWritten(err error) bool { return errors.Is(err, ErrHeadersWritten) }
