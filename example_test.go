package sessions_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// exampleKey is a 32-byte key for the examples; generate your own with
// `sessionctl keygen` or 32 bytes of crypto/rand.
const exampleKey = "example-secret-key-0123456789abcdef"

// get fetches url with client and returns the body.
func get(client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A visit counter: the session lives in the request context, is loaded on
// first use and saved automatically before the response goes out.
func ExampleMiddleware_Handler() {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		n, _ := sessions.GetAs[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	fmt.Println(get(client, srv.URL))
	fmt.Println(get(client, srv.URL))
	fmt.Println(get(client, srv.URL))
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

// GetSession fails outside a request served by the middleware.
func ExampleGetSession() {
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Set("theme", "dark")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(strings.HasPrefix(rec.Header().Get("Set-Cookie"), "session="))
	fmt.Println(rec.Header().Get("Vary"), rec.Header().Get("Cache-Control"))

	_, err := sessions.GetSession(httptest.NewRequest("GET", "/", nil).Context())
	fmt.Println(errors.Is(err, sessions.ErrNoSession))
	// Output:
	// true
	// Cookie no-cache="Set-Cookie"
	// true
}

// Login discards the anonymous session (preventing session fixation) and
// records the user; LoginKeep carries chosen keys across.
func ExampleLogin() {
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	mux := http.NewServeMux()
	mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("cart", []string{"book"})
		s.Set("tracking", "anonymous")
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.LoginKeep(r.Context(), "user-42", "cart"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Logout(r.Context())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id, ok := sessions.UserID(r.Context())
		s, _ := sessions.GetSession(r.Context())
		fmt.Fprintf(w, "user=%q logged-in=%v keys=%v", id, ok, s.Keys())
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get(client, srv.URL+"/add")
	fmt.Println(get(client, srv.URL+"/"))
	get(client, srv.URL+"/login")
	fmt.Println(get(client, srv.URL+"/"))
	get(client, srv.URL+"/logout")
	fmt.Println(get(client, srv.URL+"/"))
	// Output:
	// user="" logged-in=false keys=[cart tracking]
	// user="user-42" logged-in=true keys=[cart]
	// user="" logged-in=false keys=[]
}

// GetAs converts what JSON gave back (a json.Number, a map) to the type you
// want, and reports false when the value does not fit.
func ExampleGetAs() {
	type Profile struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	cookie, _ := m.Encode(map[string]any{
		"count":   7,
		"big":     300,
		"profile": map[string]any{"name": "Ann", "tags": []string{"admin"}},
	})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		raw, _ := s.Get("count")
		fmt.Printf("%T %v\n", raw, raw)
		fmt.Println(sessions.GetAs[int](s, "count"))
		fmt.Println(sessions.GetAs[int8](s, "big"))
		fmt.Println(sessions.GetAs[string](s, "count"))
		p, ok := sessions.GetAs[Profile](s, "profile")
		fmt.Println(p.Name, p.Tags, ok)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// json.Number 7
	// 7 true
	// 0 false
	//  false
	// Ann [admin] true
}

// Flash messages survive exactly one redirect.
func ExampleSession_AddFlash() {
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	mux := http.NewServeMux()
	mux.HandleFunc("/save", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.AddFlash("info", "Saved.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		for _, f := range s.Flashes() {
			fmt.Fprintf(w, "[%s] %s", f.Category, f.Message)
		}
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	fmt.Printf("%q\n", get(client, srv.URL+"/save"))
	fmt.Printf("%q\n", get(client, srv.URL+"/"))
	// Output:
	// "[info] Saved."
	// ""
}

// WithSession passes the session as an argument.
func ExampleWithSession() {
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	h := m.Handler(sessions.WithSession(func(w http.ResponseWriter, r *http.Request, s *sessions.Session) {
		s.Set("lang", "fr")
		fmt.Fprint(w, s.Keys())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Body.String(), rec.Result().Cookies()[0].Name)
	// Output:
	// [lang] session
}

// Commit writes the cookie early, before a streamed body.
func ExampleCommit() {
	m, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("job", "started")
		if err := sessions.Commit(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Println("cookie set before streaming:", w.Header().Get("Set-Cookie") != "")
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			http.NewResponseController(w).Flush()
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// cookie set before streaming: true
}

// Encode mints a cookie outside a request, exactly as the middleware
// writes it: the itsdangerous URLSafeTimedSerializer format.
func ExampleMiddleware_Encode() {
	m, _ := sessions.New(sessions.SessionConfig{
		SecretKey: "ctxsession-test-vector-key-0123456789",
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	v, err := m.Encode(map[string]any{"user": "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	// Output:
	// eyJ1c2VyIjoiYWxpY2UiLCJfY3R4c2Vzc2lvbiI6eyJjIjoxNzAwMDAwMDAwfX0.ZVPxAA.fA6XD9tgUZiS_HTm5mYmJHqwmy4l8hAUz7AOi8OgAQk
}

// Decode verifies a cookie as the middleware would and says why it fails.
func ExampleMiddleware_Decode() {
	now := time.Unix(1700000000, 0)
	m, _ := sessions.New(sessions.SessionConfig{
		SecretKey: "ctxsession-test-vector-key-0123456789",
		MaxAge:    time.Hour,
		Now:       func() time.Time { return now },
	})
	cookie, _ := m.Encode(map[string]any{"user": "alice"})

	values, err := m.Decode(context.Background(), cookie)
	fmt.Println(values, err)

	_, err = m.Decode(context.Background(), strings.Replace(cookie, "eyJ1", "eyJ2", 1))
	fmt.Println(errors.Is(err, sessions.ErrBadSignature), errors.Is(err, sessions.ErrInvalidCookie))

	now = now.Add(2 * time.Hour)
	_, err = m.Decode(context.Background(), cookie)
	var expired *sessions.ExpiredError
	fmt.Println(errors.As(err, &expired), expired.Which, expired.Limit)
	// Output:
	// map[user:alice] <nil>
	// true true
	// true MaxAge 1h0m0s
}

// New reports every configuration mistake at once, never at the first
// request.
func ExampleNew() {
	_, err := sessions.New(sessions.SessionConfig{})
	fmt.Println(errors.Is(err, sessions.ErrNoSecretKey))

	_, err = sessions.New(sessions.SessionConfig{
		SecretKey: exampleKey,
		SameSite:  http.SameSiteNoneMode, // without Secure
	})
	fmt.Println(errors.Is(err, sessions.ErrInvalidConfig))

	_, err = sessions.New(sessions.SessionConfig{
		SecretKey:  exampleKey,
		CookieName: "__Host-session", // needs Secure, Path "/", no Domain
		Secure:     true,
	})
	fmt.Println(err)
	// Output:
	// true
	// true
	// <nil>
}

// A Format is a flag (or a JSON or configuration value) by its name.
func ExampleFormat_UnmarshalText() {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg sessions.SessionConfig
	fs.TextVar(&cfg.Format, "format", sessions.FormatItsdangerous, "cookie format")
	fmt.Println(fs.Parse([]string{"-format", "flask"}), cfg.Format)
	var f sessions.Format
	err := f.UnmarshalText([]byte("yaml"))
	fmt.Println(errors.Is(err, sessions.ErrInvalidConfig))
	fmt.Println(sessions.Formats())
	// Output:
	// <nil> flask
	// true
	// [itsdangerous flask starlette jwt encrypted django]
}

// A Go service mints a session that the Flask app beside it reads as its
// own (Flask 3.1 writes the same value for this session at that time).
func ExampleFormatFlask() {
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: "a-flask-secret-key-of-32-bytes-or-more",
		Format:    sessions.FormatFlask,
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	cookie, err := m.Encode(map[string]any{"cart": []any{"apple"}})
	fmt.Println(cookie, err)
	values, err := m.Decode(context.Background(), cookie)
	fmt.Println(values, err)
	// Output:
	// eyJjYXJ0IjpbImFwcGxlIl0sIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9fQ.ZVPxAA.MRHCyBbDdvyqQxMlyeSX7TyYNsc <nil>
	// map[cart:[apple]] <nil>
}

// microdot's Session.encode()/decode(), in Go: an HS256 JWT whose claims are
// the session, with iat and exp added.
func ExampleFormatJWT() {
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: "a-microdot-secret-key-of-32-bytes+",
		Format:    sessions.FormatJWT,
	})
	if err != nil {
		panic(err)
	}
	token, _ := m.Encode(map[string]any{"n": 1})
	values, err := m.Decode(context.Background(), token)
	fmt.Println(values, err)
	_, err = m.Decode(context.Background(), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJuIjoxfQ.")
	fmt.Println(errors.Is(err, sessions.ErrBadSignature))
	// Output:
	// map[n:1] <nil>
	// true
}

// Log a user out on every device, for instance after a password change.
func ExampleMiddleware_DestroyUser() {
	store := memstore.New()
	defer store.Close()
	mw, _ := sessions.New(sessions.SessionConfig{SecretKey: exampleKey, Store: store})
	login := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Login(r.Context(), "alice")
	}))
	for range 3 { // three devices
		login.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
	}
	ctx := context.Background()
	ids, _ := mw.UserSessions(ctx, "alice")
	fmt.Println("sessions before:", len(ids))
	if err := mw.DestroyUser(ctx, "alice"); err != nil {
		fmt.Println(err)
	}
	ids, _ = mw.UserSessions(ctx, "alice")
	fmt.Println("sessions after:", len(ids))
	// Output:
	// sessions before: 3
	// sessions after: 0
}
