package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/bits"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/internal/faultstore"
)

// Store mode, against the real stores (memstore, and filestore where the
// store's own behaviour matters), wrapped by faultstore to count calls, to
// list the records the middleware created and to fail or block on demand.

var errInjected = faultstore.ErrInjected

// newStoreEnv returns an Env in store mode on a new faultstore over
// memstore, checking that every session cookie it sets points at a saved
// record, and the store.
func newStoreEnv(t *testing.T) (*sessions.Env, *faultstore.Store) {
	t.Helper()
	st := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
	e.CheckSaved = true
	return e, st
}

// realStores returns a faultstore over a fresh instance of each real store.
func realStores(t *testing.T) map[string]*faultstore.Store {
	t.Helper()
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*faultstore.Store{"memstore": faultstore.NewMem(t), "filestore": faultstore.New(fs)}
}

// call returns a handler action that runs fn on the request's context.
// fn's error is logged, not failed on: some tests make it fail on purpose,
// and check the response instead.
func call(t *testing.T, fn func(ctx context.Context) error) func(*http.Request, *sessions.Session) {
	return func(r *http.Request, _ *sessions.Session) {
		if err := fn(r.Context()); err != nil {
			t.Logf("handler error: %v", err)
		}
	}
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
func read(t *testing.T, e *sessions.Env, cookie, k string) (string, string) {
	t.Helper()
	var v, u string
	r := e.Visit(cookie, func(_ *http.Request, s *sessions.Session) {
		v, _ = sessions.GetAs[string](s, k)
		u = s.UserID()
	})
	if r.Rec.Code != http.StatusOK || r.Seen.Err != nil {
		t.Fatalf("read: status %d, GetSession error %v", r.Rec.Code, r.Seen.Err)
	}
	return v, u
}

// records returns how many of the records the middleware created st still
// holds.
func records(t *testing.T, st *faultstore.Store) int {
	t.Helper()
	live, err := st.Live(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(live)
}

// issueLogin logs user in on a request carrying cookie and returns the new
// session cookie.
func issueLogin(t *testing.T, e *sessions.Env, cookie, user string) string {
	t.Helper()
	v := e.MustVisit(cookie, func(r *http.Request, _ *sessions.Session) {
		if err := sessions.Login(r.Context(), user); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	if v.Cookie == "" {
		t.Fatalf("Login set no cookie (status %d)", v.Rec.Code)
	}
	return v.Cookie
}

// userOf returns the user of the session cookie's session.
func userOf(t *testing.T, e *sessions.Env, cookie string) string {
	t.Helper()
	_, u := read(t, e, cookie, "")
	return u
}

// idOf returns the session id inside a store-mode cookie value (the part
// before the timestamp and signature).
func idOf(t *testing.T, cookie string) string {
	t.Helper()
	id, _, _ := strings.Cut(cookie, ".")
	if id == "" {
		t.Fatalf("cookie %q has no id", cookie)
	}
	return id
}

// storageKey is the storage key the middleware derives from a session id
// (documented on Store: SHA-256 in lowercase hex).
func storageKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// live returns the ids of the records the middleware created that st still
// holds.
func live(t *testing.T, st *faultstore.Store) []string {
	t.Helper()
	ids, err := st.Live(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestStoreAnonymousFloodCreatesNothing(t *testing.T) {
	e, st := newStoreEnv(t)
	good := e.Visit("", call(t, set("a", "1"))).Cookie
	if good == "" {
		t.Fatal("no cookie")
	}
	forged := []string{
		"", "garbage", strings.Repeat("A", 43) + ".AAAAAA.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		good[:len(good)-2] + "AA", "." + good, strings.Repeat("x", 5000),
	}
	findsBefore := st.Count(faultstore.Find)
	for i := range 500 {
		r := e.Visit(forged[i%len(forged)], call(t, func(ctx context.Context) error {
			s, err := sessions.GetSession(ctx)
			if err != nil {
				return err
			}
			s.Get("a")
			sessions.UserID(ctx)
			return nil
		}))
		if r.Rec.Code != 200 || r.Cookie != "" {
			t.Fatalf("flood request %d: status %d, cookie %q; want 200 and no cookie", i, r.Rec.Code, r.Cookie)
		}
	}
	if n := records(t, st); n != 1 {
		t.Fatalf("store holds %d records after an anonymous flood; want 1 (the real session)", n)
	}
	if c := st.Count(faultstore.Create); c != 1 {
		t.Fatalf("Create called %d times; want 1", c)
	}
	// Forged cookies are rejected by their signature, before the store.
	if f := st.Count(faultstore.Find) - findsBefore; f != 0 {
		t.Fatalf("forged cookies caused %d store lookups; want 0", f)
	}
}

func TestStoreFailureIsLoud(t *testing.T) {
	e, st := newStoreEnv(t)
	c := e.Visit("", call(t, set("k", "precious"))).Cookie

	tests := []struct {
		name string
		fail faultstore.Op
		fn   func(ctx context.Context) error
		// cookie: the request carries the existing cookie
		cookie bool
	}{
		{"Find on load", faultstore.Find, set("k", "clobber"), true},
		{"Update on save", faultstore.Update, set("k", "clobber"), true},
		{"Create on save", faultstore.Create, set("k", "fresh"), false},
		{"Delete on Login", faultstore.Delete, login("mallory"), true},
		{"Delete on Logout", faultstore.Delete, sessions.Logout, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st.Fail(tc.fail, errInjected)
			before := records(t, st)
			errsBefore := len(e.Errors())
			cookie := ""
			if tc.cookie {
				cookie = c
			}
			r := e.Visit(cookie, call(t, tc.fn))
			st.Fail(tc.fail, nil)
			if r.Rec.Code != http.StatusInternalServerError || r.Cookie != "" || r.Deleted {
				t.Fatalf("status %d cookie %q del %v; want 500 and no Set-Cookie", r.Rec.Code, r.Cookie, r.Deleted)
			}
			if tc.fail == faultstore.Find && !errors.Is(r.Seen.Err, sessions.ErrStore) {
				t.Fatalf("GetSession = %v; want ErrStore", r.Seen.Err)
			}
			errs := e.Errors()[errsBefore:]
			if len(errs) != 1 {
				t.Fatalf("error handler got %v; want one error", errs)
			}
			if err := errs[0]; !errors.Is(err, sessions.ErrStore) || !errors.Is(err, errInjected) {
				t.Fatalf("error handler got %v; want ErrStore wrapping the cause", err)
			}
			if n := records(t, st); n != before {
				t.Fatalf("records %d -> %d", before, n)
			}
			if v, u := read(t, e, c, "k"); v != "precious" || u != "" {
				t.Fatalf("stored session now %q user %q; want it untouched", v, u)
			}
		})
	}
}

// GoFiber CVE-2024-38513: a session id the server did not issue must never
// become a session, even when it is validly signed (minted by another
// server with the same key) or when a handler writes to the session.
func TestSecurityStoreStrictIDs(t *testing.T) {
	for name, st := range realStores(t) {
		t.Run(name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
			// A validly signed id this store never issued.
			elsewhere, _ := newStoreEnv(t)
			signed := issueLogin(t, elsewhere, "", "alice")
			// An id whose record is gone (here by Destroy; expiry or another
			// server's Logout do the same).
			destroyed := e.MustVisit("", call(t, set("a", "1"))).Cookie
			e.MustVisit(destroyed, call(t, sessions.Destroy))
			if n := len(live(t, st)); n != 0 {
				t.Fatalf("Destroy left %d records; want 0", n)
			}
			st.ForgetCreated()
			forgedIDs := map[string]string{
				"destroyed":        destroyed,
				"signed elsewhere": signed,
				"unsigned raw id":  idOf(t, signed),
				"chosen id":        strings.Repeat("A", 43),
				"chosen id signed": strings.Repeat("A", 43) + "." + strings.SplitN(signed, ".", 2)[1],
			}
			for what, cookie := range forgedIDs {
				if u := userOf(t, e, cookie); u != "" {
					t.Errorf("%s: user %q, want none", what, u)
				}
				if n := len(st.Created()); n != 0 {
					t.Fatalf("%s: a read-only request created %d records", what, n)
				}
				// A handler that writes gets a new id, never the offered one,
				// and a session that holds only what it wrote.
				got := e.MustVisit(cookie, func(_ *http.Request, s *sessions.Session) { s.Set("k", "v") }).Cookie
				if got == "" {
					t.Fatalf("%s: no cookie after a write", what)
				}
				if idOf(t, got) == idOf(t, cookie) {
					t.Errorf("%s: the offered id was adopted", what)
				}
				if seen := e.Load("session=" + got); len(seen.Values) != 1 || seen.UserID != "" {
					t.Errorf("%s: the new session holds %v, user %q; want only k", what, seen.Values, seen.UserID)
				}
				if v, _ := read(t, e, cookie, "k"); v != "" {
					t.Errorf("%s: the offered cookie reads the new session's data %q", what, v)
				}
				for _, id := range st.CreatedIDs() {
					if id == storageKey(idOf(t, cookie)) {
						t.Errorf("%s: a record was created under the offered id", what)
					}
				}
				st.ForgetCreated()
			}
		})
	}
}

// Session ids are 256 random bits: decode them from the cookies.
func TestSecurityStoreID256Bits(t *testing.T) {
	e, _ := newStoreEnv(t)
	const n = 200
	seen := map[string]bool{}
	ones := 0
	for i := 0; i < n; i++ {
		c := e.MustVisit("", func(_ *http.Request, s *sessions.Session) { s.Set("i", i) }).Cookie
		raw, err := base64.RawURLEncoding.Strict().DecodeString(idOf(t, c))
		if err != nil {
			t.Fatalf("id %q is not base64url: %v", idOf(t, c), err)
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
	for name, st := range realStores(t) {
		t.Run(name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
			anon := e.MustVisit("", func(_ *http.Request, s *sessions.Session) { s.Set("cart", "apple") }).Cookie
			loggedIn := e.MustVisit(anon, call(t, func(ctx context.Context) error { return sessions.LoginKeep(ctx, "alice", "cart") })).Cookie
			if loggedIn == "" || idOf(t, loggedIn) == idOf(t, anon) {
				t.Fatalf("Login kept the session id (cookie %q)", loggedIn)
			}
			if l := live(t, st); len(l) != 1 || l[0] != storageKey(idOf(t, loggedIn)) {
				t.Errorf("live records after Login %v, want only the new session's", l)
			}
			if v, _ := read(t, e, loggedIn, "cart"); v != "apple" {
				t.Errorf("LoginKeep kept cart %q, want apple", v)
			}
			// The pre-login cookie (which an attacker may have planted) is dead.
			if cart := e.Load("session=" + anon).Values["cart"]; cart != nil {
				t.Errorf("pre-login cookie still holds %v", cart)
			}
			if u := userOf(t, e, anon); u != "" {
				t.Errorf("pre-login cookie: user %q", u)
			}
			if u := userOf(t, e, loggedIn); u != "alice" {
				t.Fatalf("logged-in cookie: user %q, want alice", u)
			}
			// Logout: the cookie is deleted, and a copy kept by an attacker
			// is dead on the server.
			got := e.MustVisit(loggedIn, func(r *http.Request, _ *sessions.Session) {
				if err := sessions.Logout(r.Context()); err != nil {
					t.Errorf("Logout: %v", err)
				}
			})
			if !got.Deleted {
				t.Errorf("Logout sent cookie %q, want a deletion", got.Cookie)
			}
			if u := userOf(t, e, loggedIn); u != "" {
				t.Errorf("replay after Logout: user %q, want none", u)
			}
			if live := live(t, st); len(live) != 0 {
				t.Errorf("%d records live after Logout", len(live))
			}
		})
	}
}

// A slow request that loaded the session before a Logout (or DestroyUser)
// and writes after it must not bring the session back.
func TestSecurityStoreLogoutRacingSlowWriter(t *testing.T) {
	for name, st := range realStores(t) {
		for _, ender := range []string{"Logout", "DestroyUser"} {
			t.Run(name+"/"+ender, func(t *testing.T) {
				e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
				c := issueLogin(t, e, "", "alice")
				loaded := make(chan struct{})
				ended := make(chan struct{})
				slow := make(chan sessions.Visit)
				go func() {
					slow <- e.MustVisit(c, func(_ *http.Request, s *sessions.Session) {
						close(loaded)
						<-ended
						s.Set("written", "after logout")
					})
				}()
				<-loaded
				switch ender {
				case "Logout":
					e.MustVisit(c, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) })
				case "DestroyUser":
					if err := e.M.DestroyUser(context.Background(), "alice"); err != nil {
						t.Fatalf("DestroyUser: %v", err)
					}
				}
				close(ended)
				if got := <-slow; got.Cookie != "" {
					t.Errorf("the slow request sent a session cookie after %s", ender)
				}
				if u := userOf(t, e, c); u != "" {
					t.Errorf("after %s and the slow write: user %q, want none", ender, u)
				}
				if live := live(t, st); len(live) != 0 {
					t.Errorf("%d records live after %s and the slow write", len(live), ender)
				}
			})
		}
	}
}

// Two RegenerateSession calls at once leave exactly the records some
// response points to: the old one is gone and none is orphaned.
func TestSecurityStoreConcurrentRegenerate(t *testing.T) {
	for name, st := range realStores(t) {
		t.Run(name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
			old := issueLogin(t, e, "", "alice")

			// Within one request, from two goroutines.
			got := e.MustVisit(old, func(r *http.Request, _ *sessions.Session) {
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
			}).Cookie
			l := live(t, st)
			if len(l) != 1 || l[0] != storageKey(idOf(t, got)) {
				t.Errorf("one request: live records %v, want only the new cookie's %s", l, storageKey(idOf(t, got)))
			}
			if v, _ := read(t, e, got, "by"); v != "goroutine" {
				t.Errorf("one request: the new cookie reads %q, want goroutine", v)
			}

			// Two requests with the same cookie, regenerating together.
			var ready sync.WaitGroup
			ready.Add(2)
			results := make(chan string, 2)
			for i := 0; i < 2; i++ {
				go func() {
					results <- e.MustVisit(got, func(r *http.Request, _ *sessions.Session) {
						ready.Done()
						ready.Wait() // both loaded the same session
						s, err := sessions.RegenerateSession(r.Context())
						if err != nil {
							t.Errorf("RegenerateSession: %v", err)
							return
						}
						s.Set("by", "request")
					}).Cookie
				}()
			}
			issued := []string{<-results, <-results}
			var want []string
			for _, c := range issued {
				if c == "" {
					t.Fatal("a regenerating request got no cookie")
				}
				if v, _ := read(t, e, c, "by"); v != "request" {
					t.Errorf("an issued cookie reads %q, want request", v)
				}
				want = append(want, storageKey(idOf(t, c)))
			}
			slices.Sort(want)
			l = live(t, st)
			slices.Sort(l)
			if !slices.Equal(l, want) {
				t.Errorf("two requests: live records %v, want exactly the two new cookies' %v", l, want)
			}
			if u := userOf(t, e, got); u != "" {
				t.Errorf("the regenerated-away cookie still works: user %q", u)
			}
		})
	}
}

func TestSetDuringStoreWriteIsNotLost(t *testing.T) {
	e, st := newStoreEnv(t)
	gate := st.Block(faultstore.Create)
	e.Do(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("a", "1")
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate.Entered
			s.Set("b", "2")
			gate.Release()
		}()
		w.WriteHeader(http.StatusOK)
		wg.Wait()
	}, "")
	// "b" arrived after the record was encoded and the headers went out:
	// it cannot be saved, so it must be reported, not dropped in silence.
	if errs := e.Errors(); len(errs) != 1 || !errors.Is(errs[0], sessions.ErrHeadersWritten) {
		t.Errorf("error handler got %v, want one ErrHeadersWritten", errs)
	}
}

func TestLateLogoutStillDeletesStoreRecord(t *testing.T) {
	e, st := newStoreEnv(t)
	cookie := issueLogin(t, e, "", "alice")
	var logoutErr error
	e2 := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
	e2.Do(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("bye"))
		logoutErr = sessions.Logout(r.Context())
	}, cookie)
	if !errors.Is(logoutErr, sessions.ErrHeadersWritten) {
		t.Errorf("late Logout returned %v, want ErrHeadersWritten", logoutErr)
	}
	if reported := e2.Errors(); len(reported) != 1 || !errors.Is(reported[0], sessions.ErrHeadersWritten) {
		t.Errorf("error handler got %v, want one ErrHeadersWritten", reported)
	}
	if uid := userOf(t, e, cookie); uid != "" {
		t.Errorf("after a late Logout the old cookie is still logged in as %q", uid)
	}
}

func TestLoginRetriedAfterStoreFailureSucceeds(t *testing.T) {
	e, st := newStoreEnv(t)
	cookie := e.Visit("", call(t, set("k", "v"))).Cookie
	st.FailOnce(faultstore.Delete, errors.New("connection reset"))

	var first, second error
	r := e.Visit(cookie, func(r *http.Request, _ *sessions.Session) {
		first = sessions.Login(r.Context(), "alice")
		second = sessions.Login(r.Context(), "alice")
	})
	if !errors.Is(first, sessions.ErrStore) || second != nil {
		t.Fatalf("Login errors %v, %v; want ErrStore then nil", first, second)
	}
	if r.Rec.Code != http.StatusOK || r.Cookie == "" {
		t.Errorf("status %d, cookie %q: a successful retry must be saved", r.Rec.Code, r.Cookie)
	}
}
