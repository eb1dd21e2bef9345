package sessions_test

import (
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
)

// TestStoreFakeClock checks that a middleware clock far from the wall
// clock neither expires records at once nor lets them outlive MaxAge.
func TestStoreFakeClock(t *testing.T) {
	for _, base := range []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(10 * 365 * 24 * time.Hour)} {
		st := faultstore.NewMem(t)
		e := sessions.NewEnv(t, sessions.SessionConfig{Store: st, MaxAge: time.Hour})
		e.Clock.Set(base)
		e.CheckSaved = true
		c := e.Visit("", call(t, set("k", "v"))).Cookie
		if v, _ := read(t, e, c, "k"); v != "v" {
			t.Fatalf("clock %v: session lost at once (%q)", base, v)
		}
		// The record ends MaxAge from now on the wall clock.
		created := st.Created()
		exp := created[len(created)-1].Expiry
		if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("clock %v: record expires in %v; want about 1h of wall time", base, d)
		}
	}
}
