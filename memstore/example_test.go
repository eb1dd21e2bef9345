package memstore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Server-side sessions in one process: the cookie holds a signed id, the
// data stays in the store.
func Example() {
	store := memstore.New()
	defer store.Close()
	mw, err := sessions.New(sessions.SessionConfig{
		SecretKey: "example-key-of-at-least-32-bytes-long!",
		Store:     store,
	})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			return // the middleware's error handler answers
		}
		n, _ := sessions.GetAs[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	}))

	var cookie *http.Cookie
	for range 3 {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		cookie = w.Result().Cookies()[0]
		fmt.Println(w.Body.String(), "- records in store:", store.Len())
	}
	// Output:
	// visit 1 - records in store: 1
	// visit 2 - records in store: 1
	// visit 3 - records in store: 1
}
