package sessions_test

import (
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		v, _ := read(t, e, c, "k")
		require.Equal(t, "v", v, "clock %v: session lost at once", base)
		// The record ends MaxAge from now on the wall clock.
		created := st.Created()
		require.NotEmpty(t, created)
		exp := created[len(created)-1].Expiry
		assert.WithinRange(t, exp, time.Now().Add(59*time.Minute), time.Now().Add(time.Hour),
			"clock %v: the record must end about 1h of wall time from now", base)
	}
}
