package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDestroy(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	srv := e.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := MustSession(t, r)
		switch r.URL.Path {
		case "/set":
			s.Set("k", "v")
		case "/destroy":
			assert.NoError(t, Destroy(r.Context()), "Destroy")
			assert.Zero(t, s.Len(), "keys after Destroy")
		case "/destroy-then-set":
			Destroy(r.Context())
			s.Set("fresh", true)
		}
		fmt.Fprint(w, s.Keys())
	}))
	srv.Get("/set")
	require.NotEmpty(t, srv.Cookie("session"), "cookie after /set")
	resp := srv.Get("/destroy")
	c := testkit.SetCookie(t, resp.Header, "session")
	require.NotNil(t, c, "Destroy sent no cookie")
	assert.Equal(t, -1, c.MaxAge, "Destroy must send a deletion")
	assert.Empty(t, c.Value)
	assert.Empty(t, srv.Cookie("session"), "the client still holds the cookie")
	srv.Get("/set")
	assert.Equal(t, "[fresh]", srv.Get("/destroy-then-set").Body, "keys after Destroy and Set")
	assert.Equal(t, "[fresh]", srv.Get("/").Body, "keys on the next request")
}

func TestRegenerateSession(t *testing.T) {
	e := NewEnv(t, SessionConfig{})
	cookie := e.Mint(map[string]any{"k": "v"})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		old := MustSession(t, r)
		s, err := RegenerateSession(r.Context())
		require.NoError(t, err, "RegenerateSession")
		assert.Same(t, old, s, "RegenerateSession must return the request's session")
		assert.Zero(t, s.Len(), "keys after RegenerateSession")
		s.Set("new", 1)
	}, cookie)
	c := testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "no cookie after RegenerateSession")
	values, err := e.M.Decode(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"new": json.Number("1")}, values)
	// Regenerated and left empty: the old cookie is deleted.
	rec = e.Do(func(w http.ResponseWriter, r *http.Request) { RegenerateSession(r.Context()) }, cookie)
	c = testkit.SetCookie(t, rec.Header(), "session")
	require.NotNil(t, c, "a regenerated empty session must delete the old cookie")
	assert.Equal(t, -1, c.MaxAge, "a regenerated empty session must delete the old cookie")
}
