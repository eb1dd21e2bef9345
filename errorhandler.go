package sessions

import "net/http"

func (m *Middleware) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	m.log.ErrorContext(r.Context(), "sessions: request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	if err == nil || isHeadersWritten(err) {
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
