package testkit_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions/internal/testkit"
)

// echo sets, replaces or deletes the cookie "c" as the path says, and
// writes back the Cookie header it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/set":
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "1", Path: "/"})
	case "/replace":
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "2", Path: "/"})
	case "/delete":
		http.SetCookie(w, &http.Cookie{Name: "c", Path: "/", MaxAge: -1})
	}
	io.WriteString(w, strings.Join(r.Header.Values("Cookie"), "|"))
})

func TestBrowserFollowsSetCookie(t *testing.T) {
	for name, b := range map[string]*testkit.Browser{
		"in process": testkit.NewBrowser(t, echo),
		"server":     testkit.NewServer(t, echo),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, "", b.Get("/set").Body, "first request")
			assert.Equal(t, "1", b.Cookie("c"))
			assert.Equal(t, "c=1", b.Get("/replace").Body)
			assert.Equal(t, "c=2", b.Get("/delete").Body)
			assert.Equal(t, "", b.Cookie("c"), "after a deletion")
			assert.Equal(t, "", b.Get("/").Body, "after a deletion")
			b.SetCookie(&http.Cookie{Name: "c", Value: "planted"})
			res := b.Get("/")
			assert.Equal(t, http.StatusOK, res.Status)
			assert.Equal(t, "c=planted", res.Body)
		})
	}
}

func TestServerWaitsForTheHandler(t *testing.T) {
	done := false
	b := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "early")
		w.(http.Flusher).Flush()
		done = true // after the response reached the client
	}))
	assert.Equal(t, "early", b.Get("/").Body)
	assert.True(t, done, "Get returned before the handler did")
}

func TestGetAndSetCookie(t *testing.T) {
	w := testkit.Get(echo, "a=1", "b=2")
	assert.Equal(t, "a=1|b=2", w.Body.String(), "one Cookie header line each")
	assert.Nil(t, testkit.SetCookie(t, w.Header(), "c"), "no Set-Cookie")

	w = testkit.Get(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "other", Value: "x"})
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v", MaxAge: 60})
	}))
	c := testkit.SetCookie(t, w.Header(), "c")
	require.NotNil(t, c)
	assert.Equal(t, "v", c.Value)
	assert.Equal(t, 60, c.MaxAge)
}
