package sessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatText(t *testing.T) {
	names := []string{"itsdangerous", "flask", "starlette", "jwt", "encrypted", "django"}
	for i, f := range sessions.Formats() {
		assert.Equal(t, names[i], f.String(), "%d.String()", int(f))
		for _, s := range []string{names[i], strings.ToUpper(names[i]), " " + names[i] + "\n"} {
			var got sessions.Format
			assert.NoError(t, got.UnmarshalText([]byte(s)), "UnmarshalText(%q)", s)
			assert.Equal(t, f, got, "UnmarshalText(%q)", s)
		}
	}
	all := []sessions.Format{sessions.FormatItsdangerous, sessions.FormatFlask, sessions.FormatStarlette, sessions.FormatJWT, sessions.FormatEncrypted, sessions.FormatDjango}
	assert.Equal(t, all, sessions.Formats())
	for _, f := range all {
		text, err := f.MarshalText()
		require.NoError(t, err, "%v.MarshalText", f)
		var back sessions.Format
		assert.NoError(t, back.UnmarshalText(text), "%v: MarshalText = %q does not read back", f, text)
		assert.Equal(t, f, back, "%v: MarshalText = %q does not read back", f, text)
	}
	_, err := sessions.Format(99).MarshalText()
	assert.ErrorIs(t, err, sessions.ErrInvalidConfig, "Format(99).MarshalText")
	assert.Equal(t, "Format(99)", sessions.Format(99).String())
	for _, s := range []string{"", "djang0", "jwt2", "Format(1)"} {
		got := sessions.FormatJWT
		assert.ErrorIs(t, got.UnmarshalText([]byte(s)), sessions.ErrInvalidConfig, "UnmarshalText(%q)", s)
		assert.Equal(t, sessions.FormatJWT, got, "UnmarshalText(%q) must leave the Format unchanged", s)
	}
	_, err = sessions.New(sessions.SessionConfig{SecretKey: sessions.TestKey, Format: sessions.Format(99)})
	assert.ErrorIs(t, err, sessions.ErrInvalidConfig, "New with Format(99)")
}

func TestEveryFormatEncodeDecode(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	values := map[string]any{"s": "x", "n": json.Number("42"), "l": []any{"a", map[string]any{"b": true}}, "nil": nil}
	for _, f := range sessions.Formats() {
		t.Run(f.String(), func(t *testing.T) {
			clock := sessions.NewClock(t0)
			cfg := sessions.SessionConfig{Format: f, Now: clock.Now, MaxAge: time.Hour, ClockSkew: time.Minute}
			m := sessions.NewEnv(t, cfg).M
			v, err := m.Encode(values)
			require.NoError(t, err)
			got, err := m.Decode(context.Background(), v)
			require.NoError(t, err)
			require.Equal(t, values, got, "Decode(Encode(v))")
			// Issue time, MaxAge and the clock skew, with the settable clock.
			for _, tc := range []struct {
				at   time.Duration
				want error
			}{
				{time.Hour, nil},
				{time.Hour + time.Second, sessions.ErrExpired},
				{-time.Minute, nil},
				{-time.Minute - time.Second, sessions.ErrFuture},
			} {
				clock.Set(t0.Add(tc.at))
				_, err := m.Decode(context.Background(), v)
				if tc.want == nil {
					assert.NoError(t, err, "Decode at t0%+v", tc.at)
				} else {
					assert.ErrorIs(t, err, tc.want, "Decode at t0%+v", tc.at)
					assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "Decode at t0%+v", tc.at)
				}
			}
			clock.Set(t0)
			// Tampering with any single character is detected.
			for i := 0; i < len(v); i += max(1, len(v)/16) {
				c := byte('A')
				if v[i] == 'A' {
					c = 'B'
				}
				bad := v[:i] + string(c) + v[i+1:]
				_, err := m.Decode(context.Background(), bad)
				assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "Decode(value with byte %d changed)", i)
			}
			// Another key: rejected. As a fallback key: accepted.
			other := sessions.NewEnv(t, sessions.SessionConfig{Format: f, Now: clock.Now, SecretKey: sessions.TestOtherKey}).M
			_, err = other.Decode(context.Background(), v)
			assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "Decode with another key")
			rotated := sessions.NewEnv(t, sessions.SessionConfig{Format: f, Now: clock.Now, SecretKey: sessions.TestOtherKey, FallbackKeys: []string{sessions.TestKey}}).M
			got, err = rotated.Decode(context.Background(), v)
			require.NoError(t, err, "Decode with the key as a fallback")
			assert.Equal(t, values, got, "Decode with the key as a fallback")
			d, err := sessions.CodecOf(rotated).Decode(v, t0)
			require.NoError(t, err, "codec Decode with a fallback key")
			assert.True(t, d.Stale, "codec Decode with a fallback key: Stale")
			assert.True(t, d.Issued.Equal(t0), "codec Decode with a fallback key: Issued %v, want %v", d.Issued, t0)
			// Garbage never panics and is ErrInvalidCookie.
			for _, junk := range []string{"", ".", "..", "a.b.c", "%%%", strings.Repeat("A", 200), "eyJ9.e30.", "=="} {
				_, err := m.Decode(context.Background(), junk)
				assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "Decode(%q)", junk)
			}
		})
	}
}

// A cookie of one format is never accepted by another, even with the same
// key and cookie name.
func TestFormatsDoNotCrossRead(t *testing.T) {
	values := map[string]any{"k": "v"}
	cookies := map[sessions.Format]string{}
	for _, f := range sessions.Formats() {
		v, err := sessions.NewEnv(t, sessions.SessionConfig{Format: f}).M.Encode(values)
		require.NoError(t, err)
		cookies[f] = v
	}
	for _, reader := range sessions.Formats() {
		m := sessions.NewEnv(t, sessions.SessionConfig{Format: reader}).M
		for _, writer := range sessions.Formats() {
			_, err := m.Decode(context.Background(), cookies[writer])
			if reader == writer {
				assert.NoError(t, err, "%v read its own cookie", reader)
			} else {
				assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "%v read a %v cookie", reader, writer)
			}
		}
	}
}

func TestUserCodec(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{Codec: sessions.ReverseCodec{}, Format: sessions.FormatJWT})
	m := e.M
	v, err := m.Encode(map[string]any{"k": "v"})
	require.NoError(t, err, "Encode with a user codec")
	require.True(t, strings.HasPrefix(v, "R"), "Encode with a user codec = %q", v)
	got, err := m.Decode(context.Background(), v)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"k": "v"}, got)
	// The payload still goes through the strict JSON decoder.
	dup, _ := sessions.ReverseCodec{}.Encode([]byte(`{"k":"v","k":"w"}`), time.Time{})
	_, err = m.Decode(context.Background(), dup)
	assert.ErrorIs(t, err, sessions.ErrMalformed, "duplicate keys through a user codec")
	assert.Equal(t, map[string]any{"k": "v"}, e.Load("session="+v).Values, "the middleware with a user codec")
}

// Every codec is shared by all requests: encode and decode concurrently
// (run with -race).
func TestFormatsConcurrent(t *testing.T) {
	for _, f := range sessions.Formats() {
		m := sessions.NewEnv(t, sessions.SessionConfig{Format: f, FallbackKeys: []string{sessions.TestOldKey}}).M
		old, err := sessions.NewEnv(t, sessions.SessionConfig{Format: f, SecretKey: sessions.TestOldKey}).M.Encode(map[string]any{"k": "old"})
		require.NoError(t, err)
		done := make(chan error, 8)
		for g := range 8 {
			go func() {
				for i := range 50 {
					v, err := m.Encode(map[string]any{"g": g, "i": i})
					if err != nil {
						done <- err
						return
					}
					if _, err := m.Decode(context.Background(), v); err != nil {
						done <- err
						return
					}
					if got, err := m.Decode(context.Background(), old); err != nil || got["k"] != "old" {
						done <- fmt.Errorf("fallback decode: %v, %v", got, err)
						return
					}
				}
				done <- nil
			}()
		}
		for range 8 {
			assert.NoError(t, <-done, f.String())
		}
	}
}

// FuzzFormatDecode feeds arbitrary values to the decoder of every format.
// None may panic; every rejection matches ErrInvalidCookie; a value one
// accepts decodes to session keys that encode again and decode to the same
// keys.
func FuzzFormatDecode(f *testing.F) {
	for _, s := range sessions.SeedCookies(f) {
		f.Add(s)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "e30.AAAA.AAAA", ".eJwDAAAAAAE.AAAA.AAAA", "eyJhbGciOiJub25lIn0.e30.", "MTIzfGFiY3xkZWY=",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhIjoxfQ.", ".eJyrVkpUslIqS8xRqgUAHaIEVw.awJUaQ.d4OiMvgiZPhOLsGB8B5qGrpQEzM"} {
		f.Add(s)
	}
	ms := make([]*sessions.Middleware, len(sessions.Formats()))
	for i, format := range sessions.Formats() {
		ms[i] = sessions.NewEnv(f, sessions.SessionConfig{Format: format}).M
	}
	f.Fuzz(func(t *testing.T, value string) {
		for i, m := range ms {
			format := sessions.Formats()[i]
			d, err := sessions.CodecOf(m).Decode(value, sessions.TestStart)
			if err != nil {
				if !errors.Is(err, sessions.ErrInvalidCookie) {
					t.Fatalf("%v: codec Decode error %v does not match ErrInvalidCookie", format, err)
				}
			} else if format == sessions.FormatJWT {
				// The JWT codec adds iat and exp to what it encodes, and the
				// payload it decodes has them: the round trip is checked
				// through the middleware below.
			} else if v2, err := sessions.CodecOf(m).Encode(d.Payload, sessions.TestStart); err != nil {
				t.Fatalf("%v: codec accepted %q but cannot encode its payload: %v", format, value, err)
			} else if _, err := sessions.CodecOf(m).Decode(v2, sessions.TestStart); err != nil {
				t.Fatalf("%v: codec accepted %q; its payload re-encoded is rejected: %v", format, value, err)
			}

			values, err := m.Decode(context.Background(), value)
			if err != nil {
				if !errors.Is(err, sessions.ErrInvalidCookie) {
					t.Fatalf("%v: Decode error %v does not match ErrInvalidCookie", format, err)
				}
				continue
			}
			v2, err := m.Encode(values)
			if errors.Is(err, sessions.ErrCookieTooLarge) {
				continue
			}
			if err != nil {
				t.Fatalf("%v: Decode accepted %q, but its values do not encode: %v", format, value, err)
			}
			again, err := m.Decode(context.Background(), v2)
			if err != nil {
				t.Fatalf("%v: re-encoded values rejected: %v", format, err)
			}
			if !reflect.DeepEqual(values, again) {
				t.Fatalf("%v: values changed through re-encoding:\n first %#v\n again %#v", format, values, again)
			}
		}
	})
}

// Context binding: every value the library signs is bound to its purpose
// (the salt holds the cookie name and, in store mode, marks an id), so a
// valid value of another cookie or purpose, under the same key, is not a
// session cookie.
func TestSecurityContextOtherNameOrPurpose(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{}) // cookie "session", cookie mode
	other := sessions.NewEnv(t, sessions.SessionConfig{CookieName: "prefs"})
	storeM := sessions.NewEnv(t, sessions.SessionConfig{Store: faultstore.NewMem(t)})
	genuine := e.Issue("alice", map[string]any{"k": "v"})
	require.Equal(t, "alice", e.Load("session="+genuine).UserID, "the genuine cookie")

	// A value signed for "prefs" under the same key.
	prefs := other.Issue("alice", map[string]any{"k": "v"})
	// A store-mode session id cookie of the same name and key.
	idCookie := storeM.Issue("alice", map[string]any{"k": "v"})
	// A flash or CSRF token another part of an application signs with the
	// same secret: itsdangerous's default salt, and a purpose salt.
	payload := `{"` + sessions.ReservedKey + `":{"c":0,"uid":"alice"},"k":"v"}`
	var minted []string
	for _, salt := range []string{"itsdangerous", "csrf-token", "ctxsession-flash:session", "ctxsession:prefs", "ctxsession-id:session", "cookie-session"} {
		c := sessions.SaltedCodec(sessions.TestKey, salt)
		v, err := c.Encode([]byte(payload), sessions.TestStart)
		require.NoError(t, err)
		minted = append(minted, v)
	}
	// Sanity: the same payload signed with the session salt is accepted, so
	// the salt is what rejects the others.
	signed, err := sessions.CodecOf(e.M).Encode([]byte(payload), sessions.TestStart)
	require.NoError(t, err)
	_, err = e.M.Decode(context.Background(), signed)
	require.NoError(t, err, "the payload signed for the session")

	for i, v := range append([]string{prefs, idCookie}, minted...) {
		_, err := e.M.Decode(context.Background(), v)
		assert.ErrorIs(t, err, sessions.ErrInvalidCookie, "value %d", i)
		seen := e.Load("session=" + v)
		assert.Empty(t, seen.UserID, "value %d accepted as the session cookie", i)
		assert.Empty(t, seen.Values, "value %d accepted as the session cookie", i)
	}

	// And the other way round: a cookie-mode session cookie is not a
	// store-mode id, and a "prefs" id is not a "session" id.
	st := faultstore.NewMem(t)
	sm := sessions.NewEnv(t, sessions.SessionConfig{Store: st})
	smOther := sessions.NewEnv(t, sessions.SessionConfig{Store: st, CookieName: "prefs"})
	otherID := smOther.Issue("alice", map[string]any{"k": "v"})
	for i, v := range []string{genuine, otherID} {
		seen := sm.Load("session=" + v)
		assert.Empty(t, seen.UserID, "store mode accepted value %d", i)
		assert.Empty(t, seen.Values, "store mode accepted value %d", i)
	}
	assert.Equal(t, "alice", smOther.Load("prefs="+otherID).UserID, "the genuine store-mode cookie")
}

// Every built-in format rejects every single-character change of a valid
// cookie, including a last base64 character that decodes to the same bits
// (the signature formats compare canonical text; the others decode
// strictly). The whole value is tried for one payload, its end (where the
// unused bits and the padding are) for two more lengths, so that every
// padding case occurs.
func TestSecuritySignatureEveryFormatEveryCharacter(t *testing.T) {
	alphabet := sessions.CookieAlphabet + "+/=|~ "
	for _, f := range sessions.Formats() {
		t.Run(f.String(), func(t *testing.T) {
			e := sessions.NewEnv(t, sessions.SessionConfig{Format: f})
			for n := range 3 {
				v := e.Issue("alice", map[string]any{"role": strings.Repeat("u", n)})
				_, err := e.M.Decode(context.Background(), v)
				require.NoError(t, err, "Decode(genuine)")
				from := 0
				if n > 0 {
					from = len(v) - 4
				}
				for i := from; i < len(v); i++ {
					for _, c := range []byte(alphabet) {
						if c == v[i] {
							continue
						}
						forged := sessions.ReplaceAt(v, i, c)
						_, err := e.M.Decode(context.Background(), forged)
						require.ErrorIs(t, err, sessions.ErrInvalidCookie, "%q changed at %d of %d (%q -> %q)", v, i, len(v), v[i], c)
					}
				}
			}
		})
	}
}
