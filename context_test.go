package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommitBeforeStreaming(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	var inHandler []string
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		s.Set("a", 1)
		assert.NoError(t, Commit(r.Context()), "Commit")
		inHandler = w.Header().Values("Set-Cookie")
		// Changed again before the headers went out: committed again,
		// replacing the first cookie.
		s.Set("b", 2)
		io.WriteString(w, "streamed")
	}, "")
	assert.Len(t, inHandler, 1, "Set-Cookie lines after Commit")
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no session cookie")
	values, err := e.M.Decode(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": json.Number("1"), "b": json.Number("2")}, values)
	assert.Len(t, rec.Header().Values("Cache-Control"), 1, "Cache-Control lines")

	// Commit of an unchanged session writes nothing and is not an error.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, Commit(r.Context()), "Commit")
	}, "")
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "Commit of an empty session")
	// Commit reports what the error handler would have received.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) {
		MustSession(t, r).Set("bad", make(chan int))
		assert.Error(t, Commit(r.Context()), "Commit of an unencodable value")
	}, "")
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "an unencodable value")
	assert.Len(t, e.Errors(), 1, "an unencodable value: error handler calls")
}

func TestWithSession(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) {
		same, _ := GetSession(r.Context())
		assert.Same(t, same, s, "WithSession must pass the request's session")
		n, _ := GetAs[int](s, "n")
		s.Set("n", n+1)
		fmt.Fprint(w, n+1)
	}))
	srv.Get("/")
	assert.Equal(t, "2", srv.Get("/").Body, "the second visit")
	// Outside the middleware: a 500, the function not called.
	called := false
	rec := httptest.NewRecorder()
	WithSession(func(w http.ResponseWriter, r *http.Request, s *Session) { called = true }).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.False(t, called, "called outside the middleware")
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "outside the middleware")
}

func TestErrNoSessionOutsideMiddleware(t *testing.T) {
	ctx := context.Background()
	s, err := GetSession(ctx)
	assert.ErrorIs(t, err, ErrNoSession, "GetSession")
	assert.Nil(t, s, "GetSession")
	s, err = RegenerateSession(ctx)
	assert.ErrorIs(t, err, ErrNoSession, "RegenerateSession")
	assert.Nil(t, s, "RegenerateSession")
	for name, err := range map[string]error{
		"Login":     Login(ctx, "u"),
		"LoginKeep": LoginKeep(ctx, "u", "k"),
		"Logout":    Logout(ctx),
		"Destroy":   Destroy(ctx),
		"Commit":    Commit(ctx),
	} {
		assert.ErrorIs(t, err, ErrNoSession, name)
	}
	id, ok := UserID(ctx)
	assert.False(t, ok, "UserID")
	assert.Empty(t, id, "UserID")
	//lint:ignore SA1012 a nil context must not panic
	_, err = GetSession(nil) //nolint:staticcheck
	assert.ErrorIs(t, err, ErrNoSession, "GetSession(nil)")
}

// TestHandlerContext: the context the handler sees is the request's own,
// with the session added: its values, deadline and cancellation come
// through, and contexts derived from it still find the session.
func TestHandlerContext(t *testing.T) {
	m := NewEnv(t, SessionConfig{}).M
	type key struct{}
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
	deadline, _ := parent.Deadline()
	var checked bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		assert.Equal(t, "v", ctx.Value(key{}), "Value(parent key)")
		d, ok := ctx.Deadline()
		assert.True(t, ok, "Deadline")
		assert.Equal(t, deadline, d, "Deadline")
		child, stop := context.WithCancel(context.WithValue(ctx, key{}, "child"))
		defer stop()
		_, err := GetSession(child)
		assert.NoError(t, err, "GetSession(derived context)")
		assert.NoError(t, ctx.Err(), "Err before cancel")
		assert.NoError(t, child.Err(), "Err before cancel")
		cancel()
		<-child.Done()
		assert.ErrorIs(t, ctx.Err(), context.Canceled, "Err after cancel")
		assert.ErrorIs(t, child.Err(), context.Canceled, "Err after cancel")
		checked = true
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	require.True(t, checked, "the handler did not run")
}

// In-place changes made after an explicit Commit, to a map or slice handed
// out or stored before it, are committed again (before the headers) or
// reported (after them), never silently lost.
func TestInPlaceChangeAfterCommit(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{"list": []any{"a"}})
	tests := []struct {
		name string
		h    func(t *testing.T, w http.ResponseWriter, r *http.Request)
		want string // the value of list[0] or m["x"] the cookie must carry
	}{
		{"loaded slice", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := MustSession(t, r)
			l, _ := s.Get("list")
			s.Set("other", 1) // so that Commit writes
			assert.NoError(t, Commit(r.Context()))
			l.([]any)[0] = "changed"
			io.WriteString(w, "body")
		}, "changed"},
		{"stored map", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			m := map[string]any{"x": "before"}
			MustSession(t, r).Set("m", m)
			assert.NoError(t, Commit(r.Context()))
			m["x"] = "changed"
		}, "changed"},
	}
	for _, tt := range tests {
		rec := e.Do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, cookie)
		c := testkit.SetCookie(t, rec.Header(), "session")
		require.NotNil(t, c, "%s: no cookie", tt.name)
		v, err := e.M.Decode(context.Background(), c.Value)
		require.NoError(t, err)
		var got any
		if l, ok := v["list"].([]any); ok && tt.name == "loaded slice" {
			got = l[0]
		}
		if m, ok := v["m"].(map[string]any); ok {
			got = m["x"]
		}
		assert.Equal(t, tt.want, got, "%s: the cookie carries %v", tt.name, v)
	}

	// After the headers: reported.
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		l, _ := s.Get("list")
		s.Set("other", 1) // so that the session is written with the headers
		io.WriteString(w, "body")
		l.([]any)[0] = "too late"
	}, cookie)
	errs := e.Errors()
	require.Len(t, errs, 1, "an in-place change after the headers: error handler calls")
	assert.ErrorIs(t, errs[0], ErrHeadersWritten)
}
