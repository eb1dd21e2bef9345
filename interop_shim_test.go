package sessions

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
)

// Names the interop tests (interop_*_test.go) use from the harness. This
// file goes away with them.

const (
	mwKey      = TestKey
	mwOldKey   = TestOldKey
	mwOtherKey = TestOtherKey
)

type mwEnv struct {
	*Env
	m     *Middleware
	clock *Clock
	logs  mwLogs
}

type mwLogs struct{ *Logs }

func (l mwLogs) rejections() []error { return l.Rejections() }

func mwNew(t *testing.T, cfg SessionConfig) *mwEnv {
	t.Helper()
	e := NewEnv(t, cfg)
	return &mwEnv{Env: e, m: e.M, clock: e.Clock, logs: mwLogs{e.Logs}}
}

func (e *mwEnv) do(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
	return e.Do(h, cookie)
}

func (e *mwEnv) mint(values map[string]any) string { return e.Mint(values) }

func mwGetSession(t *testing.T, r *http.Request) *Session { return MustSession(t, r) }

func mwSessionCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	return testkit.SetCookie(t, h, name)
}

func encodeAt(m *Middleware, values map[string]any, now time.Time) (string, error) {
	return EncodeAt(m, values, now)
}
