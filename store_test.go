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
		// The record lives MaxAge, whatever the middleware's clock says.
		created := st.Created()
		require.NotEmpty(t, created)
		assert.Equal(t, time.Hour, created[len(created)-1].TTL, "clock %v: the record's TTL", base)
	}
}
