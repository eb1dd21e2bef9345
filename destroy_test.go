package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cookie mode with a RevocationStore: Logout revokes the session (a copy
// of its cookie is dead, another session of the user is not); DestroyUser
// ends every cookie of the user logged in up to then, and
// a failing or corrupt RevocationStore is loud, never an anonymous session.
func TestSecurityCookieModeRevocation(t *testing.T) {
	rev := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rev})
	ctx := context.Background()
	stolen := issueLogin(t, e, "", "alice")
	a2 := issueLogin(t, e, "", "alice")
	bob := issueLogin(t, e, "", "bob")
	anon := e.MustVisit("", call(t, set("a", "1"))).Cookie

	// Logout deletes the cookie in the browser, and a copy is revoked.
	got := e.MustVisit(stolen, func(r *http.Request, _ *sessions.Session) { sessions.Logout(r.Context()) })
	require.True(t, got.Deleted, "Logout sent %q, want a deletion", got.Cookie)
	require.Empty(t, userOf(t, e, stolen), "cookie mode with a RevocationStore, a copy after Logout")
	require.Equal(t, "alice", userOf(t, e, a2), "the user's other session after Logout")

	e.Clock.Add(time.Minute)
	require.NoError(t, e.M.DestroyUser(ctx, "alice"), "DestroyUser")
	for _, c := range []string{stolen, a2} {
		assert.Empty(t, userOf(t, e, c), "user after DestroyUser")
	}
	assert.Equal(t, "bob", userOf(t, e, bob), "another user's cookie")
	// A later login works; DestroyUser again revokes it too.
	e.Clock.Add(time.Second)
	fresh := issueLogin(t, e, "", "alice")
	require.Equal(t, "alice", userOf(t, e, fresh), "a login after DestroyUser")
	e.Clock.Add(time.Second)
	require.NoError(t, e.M.DestroyUser(ctx, "alice"))
	require.Empty(t, userOf(t, e, fresh), "the second DestroyUser must revoke the newer cookie")
	// Anonymous sessions cost no lookup.
	before := rev.Count(faultstore.Find)
	v, _ := read(t, e, anon, "a")
	require.Equal(t, "1", v, "anonymous cookie lost")
	require.Equal(t, before, rev.Count(faultstore.Find), "anonymous session caused a revocation lookup")
	// A failing RevocationStore is loud, never an anonymous session.
	rev.Fail(faultstore.Find, errInjected)
	r := e.Visit(bob, nil)
	rev.Fail(faultstore.Find, nil)
	require.Equal(t, http.StatusInternalServerError, r.Rec.Code, "status with failing RevocationStore")
	errs := e.Errors()
	require.Len(t, errs, 1, "error handler calls")
	require.ErrorIs(t, errs[0], sessions.ErrStore)
	rev.Fail(faultstore.Create, errInjected)
	require.ErrorIs(t, e.M.DestroyUser(ctx, "bob"), sessions.ErrStore, "DestroyUser with failing RevocationStore")
	rev.Fail(faultstore.Create, nil)
	// A corrupt revocation record is a store failure too.
	sum := sha256.Sum256([]byte("ctxsession-revoked:bob"))
	corrupt := sessions.Record{ID: hex.EncodeToString(sum[:]), Data: []byte("not a time"), TTL: time.Hour}
	require.NoError(t, rev.Inner().Create(ctx, corrupt))
	r = e.Visit(bob, call(t, set("x", "y")))
	require.Equal(t, http.StatusInternalServerError, r.Rec.Code, "status with a corrupt revocation record")
	errs = e.Errors()
	require.Len(t, errs, 2, "error handler calls")
	require.ErrorIs(t, errs[1], sessions.ErrStore)
	// Without a RevocationStore there is nothing to record it in.
	assert.ErrorIs(t, sessions.NewEnv(t, sessions.SessionConfig{}).M.DestroyUser(ctx, "alice"), sessions.ErrNotSupported, "DestroyUser without RevocationStore")
}

func TestStoreDestroyUser(t *testing.T) {
	e, _ := newStoreEnv(t)
	ctx := context.Background()
	var alice []string
	for range 3 {
		alice = append(alice, e.Visit("", call(t, login("alice"))).Cookie)
	}
	bob := e.Visit("", call(t, login("bob"))).Cookie
	anon := e.Visit("", call(t, set("a", "1"))).Cookie
	ids, err := e.M.UserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, ids, 3, "UserSessions(alice)")
	require.NoError(t, e.M.DestroyUser(ctx, "alice"), "DestroyUser")
	for _, c := range alice {
		_, u := read(t, e, c, "who")
		require.Empty(t, u, "alice's session survived DestroyUser")
	}
	_, u := read(t, e, bob, "who")
	require.Equal(t, "bob", u, "bob's session")
	v, _ := read(t, e, anon, "a")
	require.Equal(t, "1", v, "anonymous session")
	ids, err = e.M.UserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, ids, "UserSessions after DestroyUser")
	require.ErrorIs(t, e.M.DestroyUser(ctx, ""), sessions.ErrInvalidUserID, "DestroyUser(\"\")")

	plain := sessions.NewEnv(t, sessions.SessionConfig{Store: faultstore.NewMem(t).Plain()})
	require.ErrorIs(t, plain.M.DestroyUser(ctx, "alice"), sessions.ErrNotSupported, "DestroyUser without a UserStore")
	_, err = plain.M.UserSessions(ctx, "alice")
	require.ErrorIs(t, err, sessions.ErrNotSupported, "UserSessions without a UserStore")
	dead, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, e.M.DestroyUser(dead, "bob"), sessions.ErrStore, "DestroyUser with a failing store")
	_, err = e.M.UserSessions(dead, "bob")
	require.ErrorIs(t, err, sessions.ErrStore, "UserSessions with a failing store")
}

// TestSecurityRevocationIgnoresClocks: a login on a server whose clock
// runs 30 s ahead (within ClockSkew), revoked by DestroyUser on a server
// with the right time, is revoked on both.
func TestSecurityRevocationIgnoresClocks(t *testing.T) {
	rs := faultstore.NewMem(t)
	ahead := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
	ahead.Clock.Add(30 * time.Second)
	right := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
	v := issueLogin(t, ahead, "", "alice")
	require.Equal(t, "alice", userOf(t, right, v))
	require.NoError(t, right.M.DestroyUser(context.Background(), "alice"))
	assert.Equal(t, "", userOf(t, right, v), "revoked cookie accepted by the server that revoked it")
	assert.Equal(t, "", userOf(t, ahead, v), "revoked cookie accepted by the server that issued it")
}

// TestSecurityRevocationGenerations: a login after DestroyUser survives it
// and the next DestroyUser revokes it; a record that expired and was
// created anew by a later DestroyUser still revokes every cookie issued
// before; other users are not affected.
func TestSecurityRevocationGenerations(t *testing.T) {
	rs := faultstore.NewMem(t)
	ctx := context.Background()
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
	bob := issueLogin(t, e, "", "bob")
	first := issueLogin(t, e, "", "alice")
	require.NoError(t, e.M.DestroyUser(ctx, "alice"))
	second := issueLogin(t, e, "", "alice")
	assert.Equal(t, "", userOf(t, e, first))
	assert.Equal(t, "alice", userOf(t, e, second), "a login after DestroyUser")
	require.NoError(t, e.M.DestroyUser(ctx, "alice"))
	assert.Equal(t, "", userOf(t, e, second), "second DestroyUser")
	assert.Equal(t, "bob", userOf(t, e, bob), "another user")

	// The record expires (here: is deleted), a login is stamped with the
	// generation it had, and a later DestroyUser creates a new record.
	third := issueLogin(t, e, "", "alice")
	for _, id := range rs.CreatedIDs() {
		require.NoError(t, rs.Inner().Delete(ctx, id))
	}
	assert.Equal(t, "alice", userOf(t, e, third), "no record: nothing revoked")
	require.NoError(t, e.M.DestroyUser(ctx, "alice"))
	assert.Equal(t, "", userOf(t, e, third), "a new record revokes cookies of the old one")
}

// TestSecurityRevocationOneLookupPerRequest: a logged-in request costs one
// RevocationStore lookup, an anonymous one none, a Login of another user
// one, and a Login that renews the session's own user none.
func TestSecurityRevocationOneLookupPerRequest(t *testing.T) {
	rs := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
	anon := e.Issue("", map[string]any{"k": "v"})
	assert.Equal(t, 0, rs.Count(faultstore.Find), "anonymous request")
	v := issueLogin(t, e, anon, "alice")
	assert.Equal(t, 1, rs.Count(faultstore.Find), "Login of a new user")
	e.MustVisit(v, nil)
	assert.Equal(t, 2, rs.Count(faultstore.Find), "logged-in request")
	e.MustVisit(v, func(r *http.Request, _ *sessions.Session) {
		assert.NoError(t, sessions.Login(r.Context(), "alice"), "Login")
	})
	// The load's lookup, and the read before the old session's id is
	// listed as revoked; no lookup for the generation to stamp.
	assert.Equal(t, 4, rs.Count(faultstore.Find), "Login renewing the same user")
}

// TestSecurityRevocationStoreFailures: a lookup failure at Login or on a
// logged-in request is a store error (500), never an anonymous session.
func TestSecurityRevocationStoreFailures(t *testing.T) {
	rs := faultstore.NewMem(t)
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
	v := issueLogin(t, e, "", "alice")
	rs.Fail(faultstore.Find, errors.New("disk on fire"))
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), "bob"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}, "")
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "Login")
	assert.Empty(t, rec.Result().Header["Set-Cookie"])
	got := e.Visit(v, nil)
	assert.Equal(t, http.StatusInternalServerError, got.Rec.Code, "logged-in request")
	err := e.M.DestroyUser(context.Background(), "alice")
	require.ErrorIs(t, err, sessions.ErrStore)
}

// TestSecurityRevocationEveryFormat: every format carries the generation
// Login stamps, so DestroyUser revokes in each of them.
func TestSecurityRevocationEveryFormat(t *testing.T) {
	for _, f := range sessions.Formats() {
		rs := faultstore.NewMem(t)
		e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs, Format: f})
		ctx := context.Background()
		require.NoError(t, e.M.DestroyUser(ctx, "alice"), "%v", f)
		v := issueLogin(t, e, "", "alice")
		require.Equal(t, "alice", userOf(t, e, v), "%v: login after DestroyUser", f)
		require.NoError(t, e.M.DestroyUser(ctx, "alice"))
		assert.Equal(t, "", userOf(t, e, v), "%v: revoked", f)
	}
}

// TestSecurityRevocationCorruptRecord: a RevocationStore record that is
// not a generation is a store error for the requests of that user and for
// DestroyUser, never an accepted cookie. A record of version 0.1.0 (a
// revocation time in Unix nanoseconds) revokes every cookie logged in
// before, and later logins and revocations work on from it.
func TestSecurityRevocationCorruptRecord(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		data     string
		corrupt  bool
		survives bool
	}{
		{"garbage", true, false},
		{"abc.-1", true, false},
		{".3", true, false},
		{"1780000000000000000", false, false},
	} {
		rs := faultstore.NewMem(t)
		e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs})
		v := issueLogin(t, e, "", "alice")
		require.NoError(t, e.M.DestroyUser(ctx, "alice"))
		id := rs.CreatedIDs()[0]
		cur, found, err := rs.Inner().Find(ctx, id)
		require.True(t, found)
		require.NoError(t, err)
		cur.Data, cur.TTL = []byte(tt.data), time.Hour
		_, err = rs.Inner().Update(ctx, cur)
		require.NoError(t, err)
		got := e.Visit(v, nil)
		if tt.corrupt {
			assert.Equal(t, http.StatusInternalServerError, got.Rec.Code, "%q", tt.data)
			require.ErrorIs(t, e.M.DestroyUser(ctx, "alice"), sessions.ErrStore, "%q", tt.data)
			continue
		}
		require.Equal(t, http.StatusOK, got.Rec.Code, "%q", tt.data)
		assert.Equal(t, "", got.Seen.UserID, "%q: cookie from before", tt.data)
		after := issueLogin(t, e, "", "alice")
		assert.Equal(t, "alice", userOf(t, e, after), "%q: login after", tt.data)
		require.NoError(t, e.M.DestroyUser(ctx, "alice"))
		assert.Equal(t, "", userOf(t, e, after), "%q: revoked again", tt.data)
	}
}

// TestSecurityRevocationBadStamp: a stamp that is not a generation, where
// the user has a record, is revoked; one that is not a string is
// malformed.
func TestSecurityRevocationBadStamp(t *testing.T) {
	rs := faultstore.NewMem(t)
	// ReverseCodec signs nothing: the test can hand the middleware any
	// payload.
	e := sessions.NewEnv(t, sessions.SessionConfig{RevocationStore: rs, Codec: sessions.ReverseCodec{}})
	require.NoError(t, e.M.DestroyUser(context.Background(), "alice"))
	enc := func(s string) string {
		v, err := sessions.ReverseCodec{}.Encode([]byte(s), sessions.TestStart)
		require.NoError(t, err)
		return v
	}
	good := issueLogin(t, e, "", "alice")
	require.Equal(t, "alice", userOf(t, e, good))
	for _, payload := range []string{
		`{"_ctxsession":{"c":1,"uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":"nonsense","uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":"","uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":7,"uid":"alice"}}`,
	} {
		assert.Equal(t, "", userOf(t, e, enc(payload)), "%s", payload)
	}
	_, err := e.M.Decode(context.Background(), enc(`{"_ctxsession":{"c":1,"g":7,"uid":"alice"}}`))
	require.ErrorIs(t, err, sessions.ErrMalformed)
}
