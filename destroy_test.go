package sessions_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
