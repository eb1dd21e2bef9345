package sessions

import (
	"encoding/base64"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFormatsCookieTooLarge(t *testing.T) {
	// Base64 of a pseudo-random stream: no format's compression shrinks
	// it below the limit.
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	big := map[string]any{"blob": base64.StdEncoding.EncodeToString(buf)}
	for _, f := range Formats() {
		m := NewEnv(t, SessionConfig{Format: f}).M
		v, err := m.Encode(big)
		assert.ErrorIs(t, err, ErrCookieTooLarge, "%v: Encode of a 5336-byte value gave %d bytes", f, len(v))
	}
}

// TestEncodeAtVector pins the whole cookie a Middleware writes for a
// session, metadata layout included, at the time SessionConfig.Now gives.
func TestEncodeAtVector(t *testing.T) {
	m := NewEnv(t, SessionConfig{SecretKey: vectorKey, Now: func() time.Time { return vectorTime }}).M
	got, err := m.Encode(map[string]any{"user": "alice", ReservedKey: "dropped"})
	assert.NoError(t, err)
	assert.Equal(t, cookieVectors[2].cookie, got)
}
