// Package testkit sends requests through an http.Handler the way a browser
// does, for the tests of this module: one request with chosen Cookie
// header lines to a recorder, or a sequence of requests that keeps the
// cookies each response sets, in process or over a real connection to an
// httptest.Server. It knows nothing of sessions, so that any package's
// tests, the root package's own included, can use it.
package testkit

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Origin is the address of the requests Get and the in-process Browser
// send.
const Origin = "http://example.test"

// Get serves h one GET request for Origin+"/" carrying the given Cookie
// header lines, one header line each, and returns the recorded response.
func Get(h http.Handler, cookieLines ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, Origin+"/", nil)
	for _, line := range cookieLines {
		r.Header.Add("Cookie", line)
	}
	return Serve(h, r)
}

// Serve serves h the request r and returns the recorded response.
func Serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// SetCookie returns the cookie named name that the Set-Cookie lines of h
// set, or nil if there is none. It fails t on a line http.ParseSetCookie
// rejects and on two lines for the name.
func SetCookie(t testing.TB, h http.Header, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name != name {
			continue
		}
		if found != nil {
			t.Fatalf("two Set-Cookie lines for %s: %q", name, h.Values("Set-Cookie"))
		}
		found = c
	}
	return found
}

// A Response is what a Browser received.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// A Browser sends requests to one handler and keeps the cookies the
// responses set, as a browser does: a later Set-Cookie of the same name,
// path and domain replaces a cookie, one with Max-Age=0 or less (or an
// Expires in the past) deletes it, and every request carries the cookies
// that match it.
type Browser struct {
	t    testing.TB
	jar  *cookiejar.Jar
	base *url.URL
	send func(*http.Request) Response
}

// NewBrowser returns a Browser that serves each request to h in process,
// with a recorder.
func NewBrowser(t testing.TB, h http.Handler) *Browser {
	b := newBrowser(t, Origin)
	b.send = func(r *http.Request) Response {
		for _, c := range b.jar.Cookies(r.URL) {
			r.AddCookie(c)
		}
		w := Serve(h, r)
		res := w.Result()
		b.jar.SetCookies(r.URL, res.Cookies())
		return Response{w.Code, res.Header, w.Body.String()}
	}
	return b
}

// NewServer returns a Browser that sends each request over a real
// connection to an httptest.Server serving h, closed when the test ends.
// A request returns once h has returned, even when h goes on working after
// the response (a hijacked connection, a hook that runs after the body).
func NewServer(t testing.TB, h http.Handler) *Browser {
	var running sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Added before the response can reach the client, so that the
		// client can wait for h after the response.
		running.Add(1)
		defer running.Done()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv.URL)
	client := &http.Client{Jar: b.jar}
	b.send = func(r *http.Request) Response {
		r.RequestURI = ""
		resp, err := client.Do(r)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.URL, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", r.Method, r.URL, err)
		}
		running.Wait()
		return Response{resp.StatusCode, resp.Header, string(body)}
	}
	return b
}

func newBrowser(t testing.TB, origin string) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, jar: jar, base: base}
}

// Get sends a GET request for path and returns the response.
func (b *Browser) Get(path string) Response {
	b.t.Helper()
	return b.Do(http.MethodGet, path)
}

// Do sends a request of method for path, with no body, and returns the
// response.
func (b *Browser) Do(method, path string) Response {
	b.t.Helper()
	u := b.base.JoinPath(path)
	r := httptest.NewRequest(method, u.String(), nil)
	return b.send(r)
}

// Cookie returns the value of the cookie named name that the browser holds
// for "/", or "" if it holds none.
func (b *Browser) Cookie(name string) string {
	for _, c := range b.jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie stores a cookie in the browser, as if a response had set it,
// for instance one planted by an attacker.
func (b *Browser) SetCookie(c *http.Cookie) {
	b.jar.SetCookies(b.base, []*http.Cookie{c})
}
