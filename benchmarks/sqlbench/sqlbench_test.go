package sqlbench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ctxsession/sessions/benchmarks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each store opens on the real server and serves the workloads through
// the middleware: a new session, then a read of it and a write.
func TestStoresServeTheWorkloads(t *testing.T) {
	for _, ctor := range Stores {
		t.Run(ctor.Name, func(t *testing.T) {
			env := benchmarks.NewEnv()
			defer env.Close()
			st, err := ctor.Open(env)
			require.NoError(t, err)
			im, err := benchmarks.StoreImpl(ctor.Name, st)
			require.NoError(t, err)
			sess := benchmarks.Small
			w := serve(im.Handler(benchmarks.OpNew, sess, nil), "")
			require.Equal(t, http.StatusNoContent, w.Code, "new: %s", w.Body)
			cookies := w.Result().Cookies()
			require.Len(t, cookies, 1, "new: Set-Cookie")
			cookie := cookies[0].Name + "=" + cookies[0].Value
			var got string
			w = serve(im.Handler(benchmarks.OpRead, sess, &got), cookie)
			assert.Equal(t, http.StatusNoContent, w.Code, "read")
			assert.Equal(t, benchmarks.ValCSRF, got, "read")
			w = serve(im.Handler(benchmarks.OpWrite, sess, nil), cookie)
			assert.Equal(t, http.StatusNoContent, w.Code, "write: %s", w.Body)
		})
	}
}

func serve(h http.Handler, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
