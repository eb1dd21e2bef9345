package sessions

import (
	"context"
	"errors"
	"testing"
)

// Context binding: every value the library signs is bound to its purpose
// (the salt holds the cookie name and, in store mode, marks an id), so a
// valid value of another cookie or purpose, under the same key, is not a
// session cookie.
func TestSecurityContextOtherNameOrPurpose(t *testing.T) {
	m := secNew(t, SessionConfig{}) // cookie "session", cookie mode
	other := secNew(t, SessionConfig{CookieName: "prefs"})
	storeM := secNew(t, SessionConfig{Store: newSecMapStore()})
	genuine := secIssue(t, m, "alice", map[string]any{"k": "v"})
	if seen := secLoad(t, m, "session="+genuine); seen.UserID != "alice" {
		t.Fatalf("genuine cookie not accepted: %+v", seen)
	}

	// A value signed for "prefs" under the same key.
	prefs := secIssue(t, other, "alice", map[string]any{"k": "v"})
	// A store-mode session id cookie of the same name and key.
	idCookie := secIssue(t, storeM, "alice", map[string]any{"k": "v"})
	// A flash or CSRF token another part of an application signs with the
	// same secret: itsdangerous's default salt, and a purpose salt.
	keys := [][]byte{[]byte(secKey)}
	payload := `{"` + ReservedKey + `":{"c":0,"uid":"alice"},"k":"v"}`
	var minted []string
	for _, salt := range []string{"itsdangerous", "csrf-token", "ctxsession-flash:session", "ctxsession:prefs", "ctxsession-id:session", "cookie-session"} {
		c := newItsdangerousCodec(newSigner(keys, salt, digestSHA256, deriveHMAC))
		v, err := c.Encode([]byte(payload), secT0)
		if err != nil {
			t.Fatal(err)
		}
		minted = append(minted, v)
	}
	// Sanity: the same payload signed with the session salt is accepted, so
	// the salt is what rejects the others.
	if _, err := m.Decode(context.Background(), secSignPayload(t, m, payload)); err != nil {
		t.Fatalf("payload signed for the session rejected: %v", err)
	}

	for i, v := range append([]string{prefs, idCookie}, minted...) {
		if _, err := m.Decode(context.Background(), v); !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("value %d: Decode = %v, want ErrInvalidCookie", i, err)
		}
		if seen := secLoad(t, m, "session="+v); seen.UserID != "" || len(seen.Values) != 0 {
			t.Errorf("value %d accepted as the session cookie: %+v", i, seen)
		}
	}

	// And the other way round: a cookie-mode session cookie is not a
	// store-mode id, and a "prefs" id is not a "session" id.
	st := newSecMapStore()
	sm := secNew(t, SessionConfig{Store: st})
	smOther := secNew(t, SessionConfig{Store: st, CookieName: "prefs"})
	otherID := secIssue(t, smOther, "alice", map[string]any{"k": "v"})
	for i, v := range []string{genuine, otherID} {
		if seen := secLoad(t, sm, "session="+v); seen.UserID != "" || len(seen.Values) != 0 {
			t.Errorf("store mode accepted value %d: %+v", i, seen)
		}
	}
	if seen := secLoad(t, smOther, "prefs="+otherID); seen.UserID != "alice" {
		t.Errorf("genuine store-mode cookie not accepted: %+v", seen)
	}
}
