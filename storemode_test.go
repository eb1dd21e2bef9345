package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/bits"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/memstore"
)

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

const sxKey = "security-store-test-key-0123456789abcdefghijk"

type sxStore struct {
	sessions.UserStore
	mu      sync.Mutex
	created []string
}

func (s *sxStore) Create(ctx context.Context, rec sessions.Record) error {
	err := s.UserStore.Create(ctx, rec)
	if err == nil {
		s.mu.Lock()
		s.created = append(s.created, rec.ID)
		s.mu.Unlock()
	}
	return err
}

// live returns the created ids the store still finds.
func (s *sxStore) live(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	ids := slices.Clone(s.created)
	s.mu.Unlock()
	var out []string
	for _, id := range ids {
		_, found, err := s.UserStore.Find(context.Background(), id)
		if err != nil {
			t.Fatalf("Find(%s): %v", id, err)
		}
		if found {
			out = append(out, id)
		}
	}
	return out
}

func (s *sxStore) createdIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// sxStores returns a fresh instance of each real store.
func sxStores(t *testing.T) map[string]*sxStore {
	t.Helper()
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ms := memstore.New()
	t.Cleanup(func() { ms.Close() })
	return map[string]*sxStore{"memstore": {UserStore: ms}, "filestore": {UserStore: fs}}
}

func sxNew(t *testing.T, store sessions.Store) *sessions.Middleware {
	t.Helper()
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: sxKey,
		Store:     store,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sxDo serves one request with cookie (if not empty) and returns the
// session cookie the response sets ("" if none; "-" for a deletion).
func sxDo(t *testing.T, m *sessions.Middleware, cookie string, h func(r *http.Request, s *sessions.Session)) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", "session="+cookie)
	}
	w := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.GetSession(r.Context())
		if err != nil {
			t.Errorf("GetSession: %v", err)
			return
		}
		if h != nil {
			h(r, s)
		}
	})).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "session" {
			if c.MaxAge < 0 {
				return "-"
			}
			return c.Value
		}
	}
	return ""
}

func sxUser(t *testing.T, m *sessions.Middleware, cookie string) string {
	t.Helper()
	var user string
	sxDo(t, m, cookie, func(_ *http.Request, s *sessions.Session) { user = s.UserID() })
	return user
}

func sxLogin(t *testing.T, m *sessions.Middleware, cookie, user string) string {
	t.Helper()
	c := sxDo(t, m, cookie, func(r *http.Request, _ *sessions.Session) {
		if err := sessions.Login(r.Context(), user); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	if c == "" || c == "-" {
		t.Fatalf("Login set no cookie (%q)", c)
	}
	return c
}

// sxID returns the session id inside a store-mode cookie value (the part
// before the timestamp and signature).
func sxID(t *testing.T, cookie string) string {
	t.Helper()
	id, _, _ := strings.Cut(cookie, ".")
	if id == "" {
		t.Fatalf("cookie %q has no id", cookie)
	}
	return id
}

// sxKeyOf is the storage key the middleware derives from a session id
// (documented on Store: SHA-256 in lowercase hex).
func sxKeyOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// GoFiber CVE-2024-38513: a session id the server did not issue must never
// become a session, even when it is validly signed (minted by another
// server with the same key) or when a handler writes to the session.
func TestSecurityStoreStrictIDs(t *testing.T) {
	for name, store := range sxStores(t) {
		t.Run(name, func(t *testing.T) {
			m := sxNew(t, store)
			// A validly signed id this store never issued.
			elsewhere := sxNew(t, &sxStore{UserStore: memstore.New()})
			signed := sxLogin(t, elsewhere, "", "alice")
			forgedIDs := map[string]string{
				"signed elsewhere": signed,
				"unsigned raw id":  sxID(t, signed),
				"chosen id":        strings.Repeat("A", 43),
				"chosen id signed": strings.Repeat("A", 43) + "." + strings.SplitN(signed, ".", 2)[1],
			}
			for what, cookie := range forgedIDs {
				if u := sxUser(t, m, cookie); u != "" {
					t.Errorf("%s: user %q, want none", what, u)
				}
				if n := len(store.createdIDs()); n != 0 {
					t.Fatalf("%s: a read-only request created %d records", what, n)
				}
				// A handler that writes gets a new id, never the offered one.
				got := sxDo(t, m, cookie, func(_ *http.Request, s *sessions.Session) { s.Set("k", "v") })
				if got == "" || got == "-" {
					t.Fatalf("%s: no cookie after a write", what)
				}
				if sxID(t, got) == sxID(t, cookie) {
					t.Errorf("%s: the offered id was adopted", what)
				}
				for _, id := range store.createdIDs() {
					if id == sxKeyOf(sxID(t, cookie)) {
						t.Errorf("%s: a record was created under the offered id", what)
					}
				}
				store.mu.Lock()
				store.created = nil
				store.mu.Unlock()
			}
		})
	}
}

// Session ids are 256 random bits: decode them from the cookies.
func TestSecurityStoreID256Bits(t *testing.T) {
	store := sxStores(t)["memstore"]
	m := sxNew(t, store)
	const n = 200
	seen := map[string]bool{}
	ones := 0
	for i := 0; i < n; i++ {
		c := sxDo(t, m, "", func(_ *http.Request, s *sessions.Session) { s.Set("i", i) })
		raw, err := base64.RawURLEncoding.Strict().DecodeString(sxID(t, c))
		if err != nil {
			t.Fatalf("id %q is not base64url: %v", sxID(t, c), err)
		}
		if len(raw) != 32 {
			t.Fatalf("id has %d bits, want 256", 8*len(raw))
		}
		if seen[string(raw)] {
			t.Fatalf("id repeated after %d sessions", i)
		}
		seen[string(raw)] = true
		for _, b := range raw {
			ones += bits.OnesCount8(b)
		}
	}
	// Random bits are about half ones: 51,200 bits, σ ≈ 113, so a 2%
	// band is more than 9σ wide.
	if total := n * 256; ones < total*48/100 || ones > total*52/100 {
		t.Errorf("%d of %d id bits are ones: not random", ones, total)
	}
}

func TestSecurityStoreReplayAfterLoginAndLogout(t *testing.T) {
	for name, store := range sxStores(t) {
		t.Run(name, func(t *testing.T) {
			m := sxNew(t, store)
			anon := sxDo(t, m, "", func(_ *http.Request, s *sessions.Session) { s.Set("cart", "apple") })
			loggedIn := sxLogin(t, m, anon, "alice")
			if sxID(t, loggedIn) == sxID(t, anon) {
				t.Fatal("Login kept the session id")
			}
			// The pre-login cookie (which an attacker may have planted) is dead.
			var cart any
			sxDo(t, m, anon, func(_ *http.Request, s *sessions.Session) { cart, _ = s.Get("cart") })
			if cart != nil {
				t.Errorf("pre-login cookie still holds %v", cart)
			}
			if u := sxUser(t, m, anon); u != "" {
				t.Errorf("pre-login cookie: user %q", u)
			}
			if u := sxUser(t, m, loggedIn); u != "alice" {
				t.Fatalf("logged-in cookie: user %q, want alice", u)
			}
			// Logout: the cookie is deleted, and a copy kept by an attacker
			// is dead on the server.
			got := sxDo(t, m, loggedIn, func(r *http.Request, _ *sessions.Session) {
				if err := sessions.Logout(r.Context()); err != nil {
					t.Errorf("Logout: %v", err)
				}
			})
			if got != "-" {
				t.Errorf("Logout sent cookie %q, want a deletion", got)
			}
			if u := sxUser(t, m, loggedIn); u != "" {
				t.Errorf("replay after Logout: user %q, want none", u)
			}
			if live := store.live(t); len(live) != 0 {
				t.Errorf("%d records live after Logout", len(live))
			}
		})
	}
}

// A slow request that loaded the session before a Logout (or DestroyUser)
// and writes after it must not bring the session back.
func TestSecurityStoreLogoutRacingSlowWriter(t *testing.T) {
	for name, store := range sxStores(t) {
		for _, ender := range []string{"Logout", "DestroyUser"} {
			t.Run(name+"/"+ender, func(t *testing.T) {
				m := sxNew(t, store)
				c := sxLogin(t, m, "", "alice")
				loaded := make(chan struct{})
				ended := make(chan struct{})
				slow := make(chan string)
				go func() {
					slow <- sxDo(t, m, c, func(_ *http.Request, s *sessions.Session) {
						close(loaded)
						<-ended
						s.Set("written", "after logout")
					})
				}()
				<-loaded
				switch ender {
				case "Logout":
					sxDo(t, m, c, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) })
				case "DestroyUser":
					if err := m.DestroyUser(context.Background(), "alice"); err != nil {
						t.Fatalf("DestroyUser: %v", err)
					}
				}
				close(ended)
				if got := <-slow; got != "" && got != "-" {
					t.Errorf("the slow request sent a session cookie after %s", ender)
				}
				if u := sxUser(t, m, c); u != "" {
					t.Errorf("after %s and the slow write: user %q, want none", ender, u)
				}
				if live := store.live(t); len(live) != 0 {
					t.Errorf("%d records live after %s and the slow write", len(live), ender)
				}
			})
		}
	}
}

// Two RegenerateSession calls at once leave exactly the records some
// response points to: the old one is gone and none is orphaned.
func TestSecurityStoreConcurrentRegenerate(t *testing.T) {
	for name, store := range sxStores(t) {
		t.Run(name, func(t *testing.T) {
			m := sxNew(t, store)
			old := sxLogin(t, m, "", "alice")

			// Within one request, from two goroutines.
			got := sxDo(t, m, old, func(r *http.Request, _ *sessions.Session) {
				var wg sync.WaitGroup
				for i := 0; i < 2; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s, err := sessions.RegenerateSession(r.Context())
						if err != nil {
							t.Errorf("RegenerateSession: %v", err)
							return
						}
						s.Set("by", "goroutine")
					}()
				}
				wg.Wait()
			})
			live := store.live(t)
			if len(live) != 1 || live[0] != sxKeyOf(sxID(t, got)) {
				t.Errorf("one request: live records %v, want only the new cookie's %s", live, sxKeyOf(sxID(t, got)))
			}

			// Two requests with the same cookie, regenerating together.
			var ready sync.WaitGroup
			ready.Add(2)
			results := make(chan string, 2)
			for i := 0; i < 2; i++ {
				go func() {
					results <- sxDo(t, m, got, func(r *http.Request, _ *sessions.Session) {
						ready.Done()
						ready.Wait() // both loaded the same session
						s, err := sessions.RegenerateSession(r.Context())
						if err != nil {
							t.Errorf("RegenerateSession: %v", err)
							return
						}
						s.Set("by", "request")
					})
				}()
			}
			want := []string{sxKeyOf(sxID(t, <-results)), sxKeyOf(sxID(t, <-results))}
			slices.Sort(want)
			live = store.live(t)
			slices.Sort(live)
			if !slices.Equal(live, want) {
				t.Errorf("two requests: live records %v, want exactly the two new cookies' %v", live, want)
			}
			if u := sxUser(t, m, got); u != "" {
				t.Errorf("the regenerated-away cookie still works: user %q", u)
			}
		})
	}
}

const stKey = "store-test-secret-key-0123456789abcdefghijkl"

var errInjected = errors.New("injected store failure")

// faultStore passes every call to the real store unless told to fail.
type faultStore struct {
	*memstore.Store
	failFind, failCreate, failUpdate, failDelete atomic.Bool
	finds, creates, updates, deletes             atomic.Int64
	lastExpiry                                   atomic.Value // time.Time of the last Create
}

func (f *faultStore) Find(ctx context.Context, id string) ([]byte, bool, error) {
	f.finds.Add(1)
	if f.failFind.Load() {
		return nil, false, errInjected
	}
	return f.Store.Find(ctx, id)
}

func (f *faultStore) Create(ctx context.Context, r sessions.Record) error {
	f.creates.Add(1)
	f.lastExpiry.Store(r.Expiry)
	if f.failCreate.Load() {
		return errInjected
	}
	return f.Store.Create(ctx, r)
}

func (f *faultStore) Update(ctx context.Context, r sessions.Record) (bool, error) {
	f.updates.Add(1)
	if f.failUpdate.Load() {
		return false, errInjected
	}
	return f.Store.Update(ctx, r)
}

func (f *faultStore) Delete(ctx context.Context, id string) error {
	f.deletes.Add(1)
	if f.failDelete.Load() {
		return errInjected
	}
	return f.Store.Delete(ctx, id)
}

// plainStore hides the UserStore methods.
type plainStore struct{ s sessions.Store }

func (p plainStore) Find(ctx context.Context, id string) ([]byte, bool, error) {
	return p.s.Find(ctx, id)
}

func (p plainStore) Create(ctx context.Context, r sessions.Record) error { return p.s.Create(ctx, r) }

func (p plainStore) Update(ctx context.Context, r sessions.Record) (bool, error) {
	return p.s.Update(ctx, r)
}

func (p plainStore) Delete(ctx context.Context, id string) error { return p.s.Delete(ctx, id) }

type stEnv struct {
	t     *testing.T
	m     *sessions.Middleware
	store *faultStore
	errs  chan error // what the error handler saw
	// storeMode: the middleware uses store (not a replacement or cookies)
	storeMode bool
}

func newStEnv(t *testing.T, mutate func(*sessions.SessionConfig)) *stEnv {
	t.Helper()
	e := &stEnv{t: t, store: &faultStore{Store: memstore.New(memstore.WithCleanupInterval(0))}, errs: make(chan error, 100)}
	cfg := sessions.SessionConfig{
		SecretKey: stKey,
		Store:     e.store,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			e.errs <- err
			http.Error(w, "store trouble", http.StatusInternalServerError)
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := sessions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.storeMode = cfg.Store == sessions.Store(e.store)
	return e
}

type stResp struct {
	code   int
	cookie string // the session cookie's new value; "" if none was set
	del    bool   // the response deletes the cookie
	body   string
}

// do serves one request carrying cookie, running fn inside the handler.
func (e *stEnv) do(cookie string, fn func(ctx context.Context) error) stResp {
	e.t.Helper()
	var fnErr error
	h := e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fnErr = fn(r.Context())
		io.WriteString(w, "ok")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if fnErr != nil {
		e.t.Logf("handler error: %v", fnErr)
	}
	out := stResp{code: rec.Code, body: rec.Body.String()}
	for _, c := range rec.Result().Cookies() {
		if c.Name != "session" {
			continue
		}
		if c.MaxAge < 0 {
			out.del = true
		} else {
			out.cookie = c.Value
		}
	}
	if out.cookie != "" && e.m != nil && e.store != nil && e.storeMode {
		// A Set-Cookie must point at saved data: the store holds the
		// record of the id it carries (the id is the cookie's first
		// dot-separated part; the store sees its SHA-256).
		id, _, _ := strings.Cut(out.cookie, ".")
		sum := sha256.Sum256([]byte(id))
		if _, found, err := e.store.Store.Find(context.Background(), hex.EncodeToString(sum[:])); !found || err != nil {
			e.t.Fatalf("Set-Cookie points at id %.8s... with no saved record (%v)", id, err)
		}
	}
	return out
}

func set(k, v string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s, err := sessions.GetSession(ctx)
		if err != nil {
			return err
		}
		s.Set(k, v)
		return nil
	}
}

func login(user string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := sessions.Login(ctx, user); err != nil {
			return err
		}
		s, _ := sessions.GetSession(ctx)
		s.Set("who", user)
		return nil
	}
}

// read returns the session's value of k and its user, as the server sees
// the cookie.
func (e *stEnv) read(cookie, k string) (string, string) {
	e.t.Helper()
	var v, u string
	r := e.do(cookie, func(ctx context.Context) error {
		s, err := sessions.GetSession(ctx)
		if err != nil {
			return err
		}
		v, _ = sessions.GetAs[string](s, k)
		u = s.UserID()
		return nil
	})
	if r.code != 200 {
		e.t.Fatalf("read: status %d", r.code)
	}
	return v, u
}

func TestStoreAnonymousFloodCreatesNothing(t *testing.T) {
	e := newStEnv(t, nil)
	good := e.do("", set("a", "1")).cookie
	if good == "" {
		t.Fatal("no cookie")
	}
	forged := []string{
		"", "garbage", strings.Repeat("A", 43) + ".AAAAAA.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		good[:len(good)-2] + "AA", "." + good, strings.Repeat("x", 5000),
	}
	findsBefore := e.store.finds.Load()
	for i := range 500 {
		r := e.do(forged[i%len(forged)], func(ctx context.Context) error {
			s, err := sessions.GetSession(ctx)
			if err != nil {
				return err
			}
			s.Get("a")
			sessions.UserID(ctx)
			return nil
		})
		if r.code != 200 || r.cookie != "" {
			t.Fatalf("flood request %d: status %d, cookie %q; want 200 and no cookie", i, r.code, r.cookie)
		}
	}
	if n := e.store.Len(); n != 1 {
		t.Fatalf("store holds %d records after an anonymous flood; want 1 (the real session)", n)
	}
	if c := e.store.creates.Load(); c != 1 {
		t.Fatalf("Create called %d times; want 1", c)
	}
	// Forged cookies are rejected by their signature, before the store.
	if f := e.store.finds.Load() - findsBefore; f != 0 {
		t.Fatalf("forged cookies caused %d store lookups; want 0", f)
	}
}

func TestStoreUnknownIDNeverAdopted(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("a", "1")).cookie
	// The record disappears (here by Destroy; expiry or another server's
	// Logout do the same): the signed id must never get a record again.
	e.do(c, func(ctx context.Context) error { return sessions.Destroy(ctx) })
	if e.store.Len() != 0 {
		t.Fatalf("Destroy left %d records; want 0", e.store.Len())
	}
	r := e.do(c, set("b", "2"))
	if r.code != 200 || r.cookie == "" || r.cookie == c {
		t.Fatalf("write with a dead id: status %d cookie %q; want 200 and a new cookie", r.code, r.cookie)
	}
	if v, _ := e.read(r.cookie, "a"); v != "" {
		t.Fatalf("new session carries old data %q", v)
	}
	if v, _ := e.read(c, "b"); v != "" {
		t.Fatalf("old cookie reads the new session's data %q", v)
	}
}

func TestStoreLoginAndLogoutRotateIDs(t *testing.T) {
	e := newStEnv(t, nil)
	anon := e.do("", set("cart", "3 apples")).cookie
	if e.store.Len() != 1 {
		t.Fatalf("records = %d; want 1", e.store.Len())
	}
	r := e.do(anon, func(ctx context.Context) error { return sessions.LoginKeep(ctx, "alice", "cart") })
	if r.code != 200 || r.cookie == "" || r.cookie == anon {
		t.Fatalf("Login: status %d cookie %q", r.code, r.cookie)
	}
	authed := r.cookie
	if e.store.Len() != 1 {
		t.Fatalf("records after Login = %d; want 1 (old deleted, new created)", e.store.Len())
	}
	if v, u := e.read(authed, "cart"); v != "3 apples" || u != "alice" {
		t.Fatalf("after Login: cart %q user %q", v, u)
	}
	// Replay of the pre-login cookie.
	if v, u := e.read(anon, "cart"); v != "" || u != "" {
		t.Fatalf("pre-login cookie still works: cart %q user %q", v, u)
	}
	r = e.do(authed, sessions.Logout)
	if !r.del || r.cookie != "" {
		t.Fatalf("Logout: del %v cookie %q; want the cookie deleted", r.del, r.cookie)
	}
	if e.store.Len() != 0 {
		t.Fatalf("records after Logout = %d; want 0", e.store.Len())
	}
	if v, u := e.read(authed, "cart"); v != "" || u != "" {
		t.Fatalf("cookie replayed after Logout: cart %q user %q", v, u)
	}
	// RegenerateSession likewise.
	c := e.do("", set("k", "v")).cookie
	r = e.do(c, func(ctx context.Context) error {
		s, err := sessions.RegenerateSession(ctx)
		if err != nil {
			return err
		}
		s.Set("k", "v2")
		return nil
	})
	if r.cookie == "" || r.cookie == c || e.store.Len() != 1 {
		t.Fatalf("RegenerateSession: cookie %q (old %q), %d records", r.cookie, c, e.store.Len())
	}
	if v, _ := e.read(c, "k"); v != "" {
		t.Fatalf("cookie from before RegenerateSession still reads %q", v)
	}
}

func TestStoreLogoutRacingSlowWriter(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", login("alice")).cookie
	loaded, release := make(chan struct{}), make(chan struct{})
	done := make(chan stResp)
	go func() {
		done <- e.do(c, func(ctx context.Context) error {
			s, err := sessions.GetSession(ctx)
			if err != nil {
				return err
			}
			close(loaded)
			<-release
			s.Set("late", "write")
			return nil
		})
	}()
	<-loaded
	if r := e.do(c, sessions.Logout); !r.del {
		t.Fatal("Logout did not delete the cookie")
	}
	close(release)
	slow := <-done
	if slow.code != 200 || slow.cookie != "" {
		t.Fatalf("slow writer: status %d cookie %q; want 200 and no cookie", slow.code, slow.cookie)
	}
	if e.store.Len() != 0 {
		t.Fatalf("records = %d; the slow writer recreated the logged-out session", e.store.Len())
	}
	if v, u := e.read(c, "late"); v != "" || u != "" {
		t.Fatalf("logged-out cookie reads %q, user %q", v, u)
	}
}

func TestStoreConcurrentRegenerateLeavesNoOrphan(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "v")).cookie
	r := e.do(c, func(ctx context.Context) error {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if s, err := sessions.RegenerateSession(ctx); err == nil {
					s.Set("k", "new")
				}
			})
		}
		wg.Wait()
		return nil
	})
	if r.code != 200 || r.cookie == "" {
		t.Fatalf("status %d cookie %q", r.code, r.cookie)
	}
	if n := e.store.Len(); n != 1 {
		t.Fatalf("records = %d; want 1 (no orphan)", n)
	}
	if v, _ := e.read(r.cookie, "k"); v != "new" {
		t.Fatalf("new cookie reads %q; want new", v)
	}

	// Two requests with the same cookie regenerating at once: the old
	// record goes, and every record left is one a response points at.
	var wg sync.WaitGroup
	resps := make([]stResp, 2)
	for i := range resps {
		wg.Go(func() {
			resps[i] = e.do(r.cookie, func(ctx context.Context) error {
				s, err := sessions.RegenerateSession(ctx)
				if err != nil {
					return err
				}
				s.Set("k", "again")
				return nil
			})
		})
	}
	wg.Wait()
	if v, _ := e.read(r.cookie, "k"); v != "" {
		t.Fatalf("old cookie still reads %q", v)
	}
	for _, x := range resps {
		if x.cookie == "" {
			t.Fatalf("a regenerating request got no cookie (status %d)", x.code)
		}
		if v, _ := e.read(x.cookie, "k"); v != "again" {
			t.Fatalf("issued cookie reads %q; want again", v)
		}
	}
	if n := e.store.Len(); n != len(resps) {
		t.Fatalf("records = %d; want %d, one per issued cookie", n, len(resps))
	}
}

func TestStoreFailureIsLoud(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "precious")).cookie

	tests := []struct {
		name string
		fail *atomic.Bool
		fn   func(ctx context.Context) error
		// cookie: the request carries the existing cookie
		cookie bool
	}{
		{"Find on load", &e.store.failFind, set("k", "clobber"), true},
		{"Update on save", &e.store.failUpdate, set("k", "clobber"), true},
		{"Create on save", &e.store.failCreate, set("k", "fresh"), false},
		{"Delete on Login", &e.store.failDelete, login("mallory"), true},
		{"Delete on Logout", &e.store.failDelete, sessions.Logout, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fail.Store(true)
			before := e.store.Len()
			cookie := ""
			if tc.cookie {
				cookie = c
			}
			r := e.do(cookie, tc.fn)
			tc.fail.Store(false)
			if r.code != http.StatusInternalServerError || r.cookie != "" || r.del {
				t.Fatalf("status %d cookie %q del %v; want 500 and no Set-Cookie", r.code, r.cookie, r.del)
			}
			select {
			case err := <-e.errs:
				if !errors.Is(err, sessions.ErrStore) || !errors.Is(err, errInjected) {
					t.Fatalf("error handler got %v; want ErrStore wrapping the cause", err)
				}
			default:
				t.Fatal("error handler not called")
			}
			if e.store.Len() != before {
				t.Fatalf("records %d -> %d", before, e.store.Len())
			}
			if v, u := e.read(c, "k"); v != "precious" || u != "" {
				t.Fatalf("stored session now %q user %q; want it untouched", v, u)
			}
		})
	}
}

func TestStoreFailureVisibleToHandler(t *testing.T) {
	e := newStEnv(t, nil)
	c := e.do("", set("k", "v")).cookie
	e.store.failFind.Store(true)
	var got error
	e.do(c, func(ctx context.Context) error {
		_, got = sessions.GetSession(ctx)
		return nil
	})
	if !errors.Is(got, sessions.ErrStore) {
		t.Fatalf("GetSession = %v; want ErrStore", got)
	}
	<-e.errs
}
