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
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
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
	require.NoError(t, r.Seen.Err, "read")
	require.Equal(t, http.StatusOK, r.Rec.Code, "read")
	return v, u
}

// records returns how many of the records the middleware created st still
// holds.
func records(t *testing.T, st *faultstore.Store) int {
	t.Helper()
	live, err := st.Live(context.Background())
	require.NoError(t, err)
	return len(live)
}

// issueLogin logs user in on a request carrying cookie and returns the new
// session cookie.
func issueLogin(t *testing.T, e *sessions.Env, cookie, user string) string {
	t.Helper()
	v := e.MustVisit(cookie, func(r *http.Request, _ *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), user), "Login")
	})
	require.NotEmpty(t, v.Cookie, "Login set no cookie (status %d)", v.Rec.Code)
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
	require.NotEmpty(t, id, "cookie %q has no id", cookie)
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
	require.NoError(t, err)
	return ids
}

func TestStoreAnonymousFloodCreatesNothing(t *testing.T) {
	e, st := newStoreEnv(t)
	good := e.Visit("", call(t, set("a", "1"))).Cookie
	require.NotEmpty(t, good, "no cookie")
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
		require.Equal(t, http.StatusOK, r.Rec.Code, "flood request %d", i)
		require.Empty(t, r.Cookie, "flood request %d", i)
	}
	require.Equal(t, 1, records(t, st), "records after an anonymous flood (the real session only)")
	require.Equal(t, 1, st.Count(faultstore.Create), "Create calls")
	// Forged cookies are rejected by their signature, before the store.
	require.Zero(t, st.Count(faultstore.Find)-findsBefore, "store lookups for forged cookies (the signature rejects them first)")
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
			require.Equal(t, http.StatusInternalServerError, r.Rec.Code)
			require.Empty(t, r.Rec.Header().Values("Set-Cookie"))
			if tc.fail == faultstore.Find {
				require.ErrorIs(t, r.Seen.Err, sessions.ErrStore, "GetSession")
			}
			errs := e.Errors()[errsBefore:]
			require.Len(t, errs, 1, "error handler calls")
			// ErrStore, wrapping the cause.
			require.ErrorIs(t, errs[0], sessions.ErrStore)
			require.ErrorIs(t, errs[0], errInjected)
			require.Equal(t, before, records(t, st), "records after a failure")
			v, u := read(t, e, c, "k")
			require.Equal(t, "precious", v, "the stored session must be untouched")
			require.Empty(t, u, "the stored session must be untouched")
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
			require.Zero(t, len(live(t, st)), "Destroy left")
			st.ForgetCreated()
			forgedIDs := map[string]string{
				"destroyed":        destroyed,
				"signed elsewhere": signed,
				"unsigned raw id":  idOf(t, signed),
				"chosen id":        strings.Repeat("A", 43),
				"chosen id signed": strings.Repeat("A", 43) + "." + strings.SplitN(signed, ".", 2)[1],
			}
			for what, cookie := range forgedIDs {
				assert.Empty(t, userOf(t, e, cookie))
				require.Zero(t, len(st.Created()))
				// A handler that writes gets a new id, never the offered one,
				// and a session that holds only what it wrote.
				got := e.MustVisit(cookie, func(_ *http.Request, s *sessions.Session) { s.Set("k", "v") }).Cookie
				require.NotEmpty(t, got, "%s: no cookie after a write", what)
				assert.NotEqual(t, idOf(t, cookie), idOf(t, got), "%s: the offered id was adopted", what)
				seen := e.Load("session=" + got)
				assert.Equal(t, map[string]any{"k": "v"}, seen.Values, "%s: the new session", what)
				assert.Empty(t, seen.UserID, "%s: the new session", what)
				v, _ := read(t, e, cookie, "k")
				assert.Empty(t, v, "%s: the offered cookie reads the new session's data", what)
				assert.NotContains(t, st.CreatedIDs(), storageKey(idOf(t, cookie)), "%s: a record was created under the offered id", what)
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
		require.NoError(t, err, "the id is not base64url")
		require.Len(t, raw, 32, "id bytes")
		require.False(t, seen[string(raw)], "id repeated after %d sessions", i)
		seen[string(raw)] = true
		for _, b := range raw {
			ones += bits.OnesCount8(b)
		}
	}
	// Random bits are about half ones: 51,200 bits, σ ≈ 113, so a 2%
	// band is more than 9σ wide.
	total := n * 256
	assert.InDelta(t, total/2, ones, float64(total*2/100), "%d of %d id bits are ones: not random", ones, total)
}

func TestSecurityStoreReplayAfterLoginAndLogout(t *testing.T) {
	for name, st := range realStores(t) {
		t.Run(name, func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
			anon := e.MustVisit("", func(_ *http.Request, s *sessions.Session) { s.Set("cart", "apple") }).Cookie
			loggedIn := e.MustVisit(anon, call(t, func(ctx context.Context) error { return sessions.LoginKeep(ctx, "alice", "cart") })).Cookie
			require.NotEmpty(t, loggedIn, "no cookie after Login")
			require.NotEqual(t, idOf(t, anon), idOf(t, loggedIn), "Login kept the session id")
			assert.Equal(t, []string{storageKey(idOf(t, loggedIn))}, live(t, st), "live records after Login")
			v, _ := read(t, e, loggedIn, "cart")
			assert.Equal(t, "apple", v, "LoginKeep kept cart")
			// The pre-login cookie (which an attacker may have planted) is dead.
			assert.Nil(t, e.Load("session=" + anon).Values["cart"], "the pre-login cookie still holds data")
			assert.Empty(t, userOf(t, e, anon), "the pre-login cookie's user")
			require.Equal(t, "alice", userOf(t, e, loggedIn), "the logged-in cookie's user")
			// Logout: the cookie is deleted, and a copy kept by an attacker
			// is dead on the server.
			got := e.MustVisit(loggedIn, func(r *http.Request, _ *sessions.Session) {
				assert.NoError(t, sessions.Logout(r.Context()), "Logout")
			})
			assert.True(t, got.Deleted, "Logout sent cookie %q, want a deletion", got.Cookie)
			assert.Empty(t, userOf(t, e, loggedIn), "user of a replay after Logout")
			assert.Empty(t, live(t, st), "records live after Logout")
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
					require.NoError(t, e.M.DestroyUser(context.Background(), "alice"), "DestroyUser")
				}
				close(ended)
				got := <-slow
				assert.Empty(t, got.Cookie, "the slow request sent a session cookie after %s", ender)
				assert.Empty(t, userOf(t, e, c), "user after %s and the slow write", ender)
				assert.Empty(t, live(t, st), "records live after %s and the slow write", ender)
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
						if !assert.NoError(t, err, "RegenerateSession") {
							return
						}
						s.Set("by", "goroutine")
					}()
				}
				wg.Wait()
			}).Cookie
			l := live(t, st)
			assert.Equal(t, []string{storageKey(idOf(t, got))}, l, "one request: live records")
			v, _ := read(t, e, got, "by")
			assert.Equal(t, "goroutine", v, "one request: the new cookie reads")

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
						if !assert.NoError(t, err, "RegenerateSession") {
							return
						}
						s.Set("by", "request")
					}).Cookie
				}()
			}
			issued := []string{<-results, <-results}
			var want []string
			for _, c := range issued {
				require.NotEmpty(t, c, "a regenerating request got no cookie")
				v, _ := read(t, e, c, "by")
				assert.Equal(t, "request", v, "an issued cookie reads")
				want = append(want, storageKey(idOf(t, c)))
			}
			slices.Sort(want)
			l = live(t, st)
			slices.Sort(l)
			assert.Equal(t, want, l, "two requests: live records, exactly the two new cookies'")
			assert.Empty(t, userOf(t, e, got), "the regenerated-away cookie still works")
		})
	}
}

func TestSetDuringStoreWriteIsNotLost(t *testing.T) {
	e, st := newStoreEnv(t)
	gate := st.Block(faultstore.Create)
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
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
	// the record exists by then, so it is saved when the handler returns.
	assert.Empty(t, e.Errors(), "error handler calls")
	c := testkit.SetCookie(t, rec.Header(), sessions.DefaultCookieName)
	require.NotNil(t, c)
	v, _ := read(t, e, c.Value, "b")
	assert.Equal(t, "2", v, "the Set during the store write")
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
	// The record goes; the browser's cookie then names nothing, so the
	// late Logout has fully worked.
	assert.NoError(t, logoutErr, "late Logout returned")
	assert.Empty(t, e2.Errors(), "error handler calls")
	assert.Empty(t, userOf(t, e, cookie), "after a late Logout the old cookie is still logged in as")
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
	require.ErrorIs(t, first, sessions.ErrStore, "the first Login")
	require.NoError(t, second, "the retried Login")
	// A successful retry is saved.
	assert.Equal(t, http.StatusOK, r.Rec.Code)
	assert.NotEmpty(t, r.Cookie)
}

// Flask's session.permanent decides whether the cookie has an expiry, as in
// Flask, and Login keeps it.
func TestFlaskPermanentDecidesCookiePersistence(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{Format: sessions.FormatFlask, MaxAge: time.Hour})
	set := func(k string, v any) http.HandlerFunc {
		return func(_ http.ResponseWriter, r *http.Request) {
			s, err := sessions.GetSession(r.Context())
			require.NoError(t, err)
			s.Set(k, v)
		}
	}
	browser := testkit.SetCookie(t, e.Do(set("n", 1), "").Header(), "session")
	require.NotNil(t, browser)
	assert.Zero(t, browser.MaxAge, "a session that is not permanent gets no Max-Age")

	permanent := testkit.SetCookie(t, e.Do(set("_permanent", true), "").Header(), "session")
	require.NotNil(t, permanent)
	assert.Equal(t, 3600, permanent.MaxAge, "a permanent session lasts MaxAge")

	// Login keeps session.permanent, and so the expiry.
	in := testkit.SetCookie(t, e.Do(func(_ http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessions.Login(r.Context(), "7"))
	}, permanent.Value).Header(), "session")
	require.NotNil(t, in)
	assert.Equal(t, 3600, in.MaxAge)
	values, err := e.M.Decode(t.Context(), in.Value)
	require.NoError(t, err)
	assert.Equal(t, true, values["_permanent"], "Login dropped _permanent")

	// In store mode the cookie is ours alone: MaxAge as usual.
	store := memstore.New()
	defer store.Close()
	se := sessions.NewEnv(t, sessions.SessionConfig{Format: sessions.FormatFlask, MaxAge: time.Hour, Store: store})
	sc := testkit.SetCookie(t, se.Do(set("n", 1), "").Header(), "session")
	require.NotNil(t, sc)
	assert.Equal(t, 3600, sc.MaxAge)
}

// TestIdleRefreshNeverWritesValuesBack: a read-only request whose idle
// refresh falls due, overlapping a request that deletes a key, only
// extends the record: the deleted key does not come back, and the refresh
// writes nothing once it finds that the other request wrote (its write
// extended the record already).
func TestIdleRefreshNeverWritesValuesBack(t *testing.T) {
	st := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{Store: st, IdleTimeout: time.Hour})
	c := e.Issue("", map[string]any{"grant": "sudo", "keep": "v"})
	e.Clock.Add(30 * time.Minute) // past a quarter of IdleTimeout: refresh due
	loaded, release := make(chan struct{}), make(chan struct{})
	done := make(chan sessions.Visit)
	go func() {
		done <- e.Visit(c, func(_ *http.Request, s *sessions.Session) {
			close(loaded) // the session is loaded; now let the other request run
			<-release
		})
	}()
	<-loaded
	e.MustVisit(c, func(_ *http.Request, s *sessions.Session) { s.Delete("grant") })
	updates := st.Count(faultstore.Update)
	close(release)
	v := <-done
	require.Equal(t, http.StatusOK, v.Rec.Code)
	assert.Equal(t, updates+1, st.Count(faultstore.Update), "the refresh tried one compare-and-set")
	grant, _ := read(t, e, c, "grant")
	keep, _ := read(t, e, c, "keep")
	assert.Empty(t, grant, "the consumed grant came back through an idle refresh")
	assert.Equal(t, "v", keep)
}

// ownerDeleter is a UserStore that is also a sessions.OwnerDeleter, and
// records the hints the middleware gives it.
type ownerDeleter struct {
	*faultstore.Store
	mu    sync.Mutex
	hints []string
}

func (o *ownerDeleter) DeleteOwned(ctx context.Context, id, userID string) error {
	o.mu.Lock()
	o.hints = append(o.hints, userID)
	o.mu.Unlock()
	return o.Delete(ctx, id)
}

// TestDiscardTellsOwnerDeleterTheUser: with an OwnerDeleter, the deletes of
// Login (the anonymous record) and Logout (alice's) go through DeleteOwned
// with the user each record had, which lets the store drop the index entry
// in the same round trip.
func TestDiscardTellsOwnerDeleterTheUser(t *testing.T) {
	st := &ownerDeleter{Store: faultstore.NewMem(t)}
	e := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
	anon := e.MustVisit("", func(_ *http.Request, s *sessions.Session) { s.Set("cart", "apple") }).Cookie
	in := e.MustVisit(anon, call(t, func(ctx context.Context) error { return sessions.Login(ctx, "alice") })).Cookie
	e.MustVisit(in, call(t, sessions.Logout))
	assert.Equal(t, []string{"", "alice"}, st.hints, "DeleteOwned hints of Login, then Logout")
	assert.Zero(t, st.Count(faultstore.Delete)-len(st.hints), "every delete went through DeleteOwned")
	assert.Empty(t, live(t, st.Store), "records after Logout")
}
