package sessions

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"testing"
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
		if v, err := m.Encode(big); !errors.Is(err, ErrCookieTooLarge) {
			t.Errorf("%v: Encode of a 5336-byte value = %d bytes, %v; want ErrCookieTooLarge", f, len(v), err)
		}
	}
}

// TestEncodeAtVector pins the whole cookie a Middleware writes for a
// session, metadata layout included.
func TestEncodeAtVector(t *testing.T) {
	m, err := New(SessionConfig{SecretKey: vectorKey})
	if err != nil {
		t.Fatal(err)
	}
	got, err := EncodeAt(m, map[string]any{"user": "alice", ReservedKey: "dropped"}, vectorTime)
	if err != nil {
		t.Fatal(err)
	}
	if want := cookieVectors[2].cookie; got != want {
		t.Errorf("encodeAt\n got %s\nwant %s", got, want)
	}
}
