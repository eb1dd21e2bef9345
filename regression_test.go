package sessions_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Regressions found in review: each test fails without its fix.

const regressionKey = "0123456789abcdef0123456789abcdef"

// unwrapOnly is an outer middleware's writer that implements only Unwrap,
// the pattern http.ResponseController recommends.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestFlushThroughControllerAndUnwrapOnlyWriterCommits(t *testing.T) {
	var errs []error
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("cart", "42")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		w.Write([]byte("streamed"))
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(unwrapOnly{w}, r)
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Set-Cookie") == "" {
		t.Errorf("no Set-Cookie after Set and a controller Flush; error handler got %v", errs)
	}
}

func TestFlushErrorWithoutFlusherBelowIsNotSupported(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey})
	if err != nil {
		t.Fatal(err)
	}
	var got error
	var isFlusher bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isFlusher = w.(http.Flusher)
		got = http.NewResponseController(w).Flush()
	}))
	h.ServeHTTP(struct{ http.ResponseWriter }{httptest.NewRecorder()}, httptest.NewRequest("GET", "/", nil))
	if isFlusher {
		t.Error("wrapper claims http.Flusher over a writer that has none")
	}
	if !errors.Is(got, http.ErrNotSupported) {
		t.Errorf("Flush = %v, want http.ErrNotSupported", got)
	}
}

// slowCreate blocks Create until released, so a goroutine can change the
// session while the store write is in flight.
type slowCreate struct {
	*memstore.Store
	entered, release chan struct{}
}

func (s *slowCreate) Create(ctx context.Context, rec sessions.Record) error {
	close(s.entered)
	<-s.release
	return s.Store.Create(ctx, rec)
}

func TestSetDuringStoreWriteIsNotLost(t *testing.T) {
	ms := memstore.New()
	defer ms.Close()
	st := &slowCreate{Store: ms, entered: make(chan struct{}), release: make(chan struct{})}
	var mu sync.Mutex
	var errs []error
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: st,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("a", "1")
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-st.entered
			s.Set("b", "2")
			close(st.release)
		}()
		w.WriteHeader(http.StatusOK)
		wg.Wait()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	mu.Lock()
	defer mu.Unlock()
	// "b" arrived after the record was encoded and the headers went out:
	// it cannot be saved, so it must be reported, not dropped in silence.
	if len(errs) != 1 || !errors.Is(errs[0], sessions.ErrHeadersWritten) {
		t.Errorf("error handler got %v, want one ErrHeadersWritten", errs)
	}
}

func TestLateReadOfSessionStillVaries(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := m.Encode(map[string]any{"name": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		s, _ := sessions.GetSession(r.Context())
		n, _ := sessions.GetAs[string](s, "name")
		w.Write([]byte("hello " + n))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "hello alice" {
		t.Fatalf("body %q", rec.Body.String())
	}
	if got := rec.Header().Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q for a personalised body, want Cookie", got)
	}

	// Without a session cookie, an untouched response does not vary.
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Vary"); got != "" {
		t.Errorf("Vary = %q on a request without cookies", got)
	}
}

func TestLateLogoutStillDeletesStoreRecord(t *testing.T) {
	ms := memstore.New()
	defer ms.Close()
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: ms})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), "alice"); err != nil {
			t.Error(err)
		}
	})).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	cookies := rec.Result().Cookies()
	withCookies := func() *http.Request {
		q := httptest.NewRequest("GET", "/", nil)
		for _, c := range cookies {
			q.AddCookie(c)
		}
		return q
	}
	var logoutErr error
	var reported []error
	m2, _ := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: ms,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { reported = append(reported, err) }})
	m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("bye"))
		logoutErr = sessions.Logout(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), withCookies())
	if !errors.Is(logoutErr, sessions.ErrHeadersWritten) {
		t.Errorf("late Logout returned %v, want ErrHeadersWritten", logoutErr)
	}
	if len(reported) != 1 || !errors.Is(reported[0], sessions.ErrHeadersWritten) {
		t.Errorf("error handler got %v, want one ErrHeadersWritten", reported)
	}
	var uid string
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ = sessions.UserID(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), withCookies())
	if uid != "" {
		t.Errorf("after a late Logout the old cookie is still logged in as %q", uid)
	}
}

func TestInvalidUTF8KeyIsAnEncodingError(t *testing.T) {
	var errs []error
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			errs = append(errs, err)
			w.WriteHeader(http.StatusInternalServerError)
		}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("user", "alice")
		s.Set("\xff", 1)
		s.Set("\xfe", 2)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if len(errs) != 1 || rec.Code != http.StatusInternalServerError {
		t.Fatalf("error handler got %v, status %d; want one encoding error and 500", errs, rec.Code)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("a cookie was sent for an unencodable session: %v", rec.Result().Cookies())
	}
}

// failDeleteOnce fails the first Delete, then behaves.
type failDeleteOnce struct {
	*memstore.Store
	failed bool
}

func (s *failDeleteOnce) Delete(ctx context.Context, id string) error {
	if !s.failed {
		s.failed = true
		return errors.New("connection reset")
	}
	return s.Store.Delete(ctx, id)
}

func TestLoginRetriedAfterStoreFailureSucceeds(t *testing.T) {
	ms := memstore.New()
	defer ms.Close()
	st := &failDeleteOnce{Store: ms, failed: true}
	m, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("k", "v")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	st.failed = false // the next Delete fails once

	req := httptest.NewRequest("POST", "/login", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	var first, second error
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first = sessions.Login(r.Context(), "alice")
		second = sessions.Login(r.Context(), "alice")
	})).ServeHTTP(rec, req)
	if !errors.Is(first, sessions.ErrStore) || second != nil {
		t.Fatalf("Login errors %v, %v; want ErrStore then nil", first, second)
	}
	if rec.Code != http.StatusOK || len(rec.Result().Cookies()) != 1 {
		t.Errorf("status %d, cookies %v: a successful retry must be saved", rec.Code, rec.Result().Cookies())
	}
}

func TestRevocationStoreWithStoreIsAConfigError(t *testing.T) {
	ms := memstore.New()
	defer ms.Close()
	_, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: ms, RevocationStore: ms})
	if !errors.Is(err, sessions.ErrInvalidConfig) {
		t.Errorf("New = %v, want ErrInvalidConfig", err)
	}
}
