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
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/memstore"
)

// Store mode against the real stores (memstore and filestore). The store
// is wrapped only to record which ids the middleware created, so that the
// tests can list them; every call goes through to the real store.

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

// Cookie mode: Logout only deletes the browser's copy; DestroyUser with a
// RevocationStore ends every cookie of the user logged in up to then.
func TestSecurityCookieModeRevocation(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	rs := memstore.New()
	t.Cleanup(func() { rs.Close() })
	newM := func(revocation sessions.Store) *sessions.Middleware {
		m, err := sessions.New(sessions.SessionConfig{
			SecretKey: sxKey, RevocationStore: revocation, Now: clock,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newM(rs)
	stolen := sxLogin(t, m, "", "alice")
	other := sxLogin(t, m, "", "bob")

	// Logout deletes the cookie in the browser, but a copy still works.
	if got := sxDo(t, m, stolen, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) }); got != "-" {
		t.Fatalf("Logout sent %q, want a deletion", got)
	}
	if u := sxUser(t, m, stolen); u != "alice" {
		t.Fatalf("cookie mode, copy after Logout: user %q; SECURITY.md says it still works", u)
	}

	advance(time.Minute)
	if err := m.DestroyUser(context.Background(), "alice"); err != nil {
		t.Fatalf("DestroyUser: %v", err)
	}
	if u := sxUser(t, m, stolen); u != "" {
		t.Errorf("after DestroyUser: user %q, want none", u)
	}
	if u := sxUser(t, m, other); u != "bob" {
		t.Errorf("another user's cookie: user %q, want bob", u)
	}
	advance(time.Second)
	if fresh := sxLogin(t, m, "", "alice"); sxUser(t, m, fresh) != "alice" {
		t.Error("a login after DestroyUser does not work")
	}
	// Without a RevocationStore there is nothing to record it in.
	if err := newM(nil).DestroyUser(context.Background(), "alice"); !errors.Is(err, sessions.ErrNotSupported) {
		t.Errorf("DestroyUser without RevocationStore = %v, want ErrNotSupported", err)
	}
}

// Session fixation in cookie mode: an attacker plants their own anonymous
// cookie; the victim logs in with it. The planted cookie stays anonymous:
// the login is in the new cookie only.
func TestSecurityCookieModeLoginFixation(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sxKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	planted := sxDo(t, m, "", func(_ *http.Request, s *sessions.Session) { s.Set("attacker", true) })
	victim := sxLogin(t, m, planted, "alice")
	if victim == planted {
		t.Fatal("Login kept the planted cookie")
	}
	if u := sxUser(t, m, planted); u != "" {
		t.Errorf("planted cookie after the victim's login: user %q, want none", u)
	}
	var kept any
	sxDo(t, m, victim, func(_ *http.Request, s *sessions.Session) { kept, _ = s.Get("attacker") })
	if kept != nil {
		t.Errorf("the planted session's data survived Login: %v", kept)
	}
}
