package sessions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var allFormats = []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT, FormatEncrypted}

func TestFormatText(t *testing.T) {
	names := []string{"itsdangerous", "flask", "starlette", "jwt", "encrypted"}
	for i, f := range allFormats {
		if got := f.String(); got != names[i] {
			t.Errorf("%d.String() = %q, want %q", int(f), got, names[i])
		}
		for _, s := range []string{names[i], strings.ToUpper(names[i]), " " + names[i] + "\n"} {
			var got Format
			if err := got.UnmarshalText([]byte(s)); err != nil || got != f {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", s, got, err, f)
			}
		}
	}
	if !reflect.DeepEqual(Formats(), allFormats) {
		t.Errorf("Formats() = %v, want %v", Formats(), allFormats)
	}
	for _, f := range allFormats {
		text, err := f.MarshalText()
		var back Format
		if err != nil || back.UnmarshalText(text) != nil || back != f {
			t.Errorf("%v: MarshalText = %q, %v; does not read back", f, text, err)
		}
	}
	if _, err := Format(99).MarshalText(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Format(99).MarshalText error = %v, want ErrInvalidConfig", err)
	}
	if got := Format(99).String(); got != "Format(99)" {
		t.Errorf("Format(99).String() = %q", got)
	}
	for _, s := range []string{"", "django", "jwt2", "Format(1)"} {
		got := FormatJWT
		if err := got.UnmarshalText([]byte(s)); !errors.Is(err, ErrInvalidConfig) || got != FormatJWT {
			t.Errorf("UnmarshalText(%q) = %v, error %v; want ErrInvalidConfig, unchanged", s, got, err)
		}
	}
	if _, err := New(SessionConfig{SecretKey: ixKey, Format: Format(99)}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with Format(99): %v, want ErrInvalidConfig", err)
	}
}

func TestEveryFormatEncodeDecode(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	values := map[string]any{"s": "x", "n": json42, "l": []any{"a", map[string]any{"b": true}}, "nil": nil}
	for _, f := range allFormats {
		t.Run(f.String(), func(t *testing.T) {
			clock := newTestClock(t0)
			cfg := SessionConfig{Format: f, Now: clock.Now, MaxAge: time.Hour, ClockSkew: time.Minute}
			m := ixNew(t, cfg)
			v, err := m.Encode(values)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Decode(context.Background(), v)
			if err != nil || !reflect.DeepEqual(got, values) {
				t.Fatalf("Decode(Encode(v)) = %#v, %v; want %#v", got, err, values)
			}
			// Issue time, MaxAge and the clock skew, with the settable clock.
			for _, tc := range []struct {
				at   time.Duration
				want error
			}{
				{time.Hour, nil},
				{time.Hour + time.Second, ErrExpired},
				{-time.Minute, nil},
				{-time.Minute - time.Second, ErrFuture},
			} {
				clock.Set(t0.Add(tc.at))
				if _, err := m.Decode(context.Background(), v); !errors.Is(err, tc.want) || (err != nil && !errors.Is(err, ErrInvalidCookie)) {
					t.Errorf("Decode at t0%+v = %v, want %v", tc.at, err, tc.want)
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
				if got, err := m.Decode(context.Background(), bad); !errors.Is(err, ErrInvalidCookie) {
					t.Errorf("Decode(value with byte %d changed) = %v, %v; want ErrInvalidCookie", i, got, err)
				}
			}
			// Another key: rejected. As a fallback key: accepted.
			other := ixNew(t, SessionConfig{Format: f, Now: clock.Now, SecretKey: ixWrong})
			if _, err := other.Decode(context.Background(), v); !errors.Is(err, ErrInvalidCookie) {
				t.Errorf("Decode with another key = %v, want ErrInvalidCookie", err)
			}
			rotated := ixNew(t, SessionConfig{Format: f, Now: clock.Now, SecretKey: ixWrong, FallbackKeys: []string{ixKey}})
			if got, err := rotated.Decode(context.Background(), v); err != nil || !reflect.DeepEqual(got, values) {
				t.Errorf("Decode with the key as a fallback = %v, %v", got, err)
			}
			d, err := rotated.codec.Decode(v, t0)
			if err != nil || !d.Stale || !d.Issued.Equal(t0) {
				t.Errorf("codec Decode with a fallback key: %+v, %v; want Stale, Issued %v", d, err, t0)
			}
			// Garbage never panics and is ErrInvalidCookie.
			for _, junk := range []string{"", ".", "..", "a.b.c", "%%%", strings.Repeat("A", 200), "eyJ9.e30.", "=="} {
				if _, err := m.Decode(context.Background(), junk); !errors.Is(err, ErrInvalidCookie) {
					t.Errorf("Decode(%q) = %v, want ErrInvalidCookie", junk, err)
				}
			}
		})
	}
}

// A cookie of one format is never accepted by another, even with the same
// key and cookie name.
func TestFormatsDoNotCrossRead(t *testing.T) {
	values := map[string]any{"k": "v"}
	cookies := map[Format]string{}
	for _, f := range allFormats {
		v, err := ixNew(t, SessionConfig{Format: f}).Encode(values)
		if err != nil {
			t.Fatal(err)
		}
		cookies[f] = v
	}
	for _, reader := range allFormats {
		m := ixNew(t, SessionConfig{Format: reader})
		for _, writer := range allFormats {
			_, err := m.Decode(context.Background(), cookies[writer])
			if accepted := err == nil; accepted != (reader == writer) {
				t.Errorf("%v read a %v cookie: err %v", reader, writer, err)
			}
		}
	}
}

func TestUserCodec(t *testing.T) {
	m := ixNew(t, SessionConfig{Codec: upperCodec{}, Format: FormatJWT})
	v, err := m.Encode(map[string]any{"k": "v"})
	if err != nil || !strings.HasPrefix(v, "R") {
		t.Fatalf("Encode with a user codec = %q, %v", v, err)
	}
	got, err := m.Decode(context.Background(), v)
	if err != nil || got["k"] != "v" {
		t.Errorf("Decode = %v, %v", got, err)
	}
	// The payload still goes through the strict JSON decoder.
	dup, _ := upperCodec{}.Encode([]byte(`{"k":"v","k":"w"}`), time.Time{})
	if _, err := m.Decode(context.Background(), dup); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate keys through a user codec: %v, want ErrMalformed", err)
	}
	res := ixServe(t, m, v, nil)
	if res.Values["k"] != "v" {
		t.Errorf("middleware with a user codec saw %v", res.Values)
	}
}

// Changing the last character of a value to one that differs only in bits
// the encoding does not use is still a different cookie: rejected.
func TestFormatsRejectNonCanonicalEncoding(t *testing.T) {
	for _, f := range allFormats {
		// Three payload lengths, so that every padding case occurs.
		for n := range 3 {
			m := ixNew(t, SessionConfig{Format: f})
			v, err := m.Encode(map[string]any{"k": strings.Repeat("v", n)})
			if err != nil {
				t.Fatal(err)
			}
			checkNonCanonical(t, f, m, v)
		}
	}
}

func checkNonCanonical(t *testing.T, f Format, m *Middleware, v string) {
	t.Helper()
	end := strings.TrimRight(v, "=")
	last := end[len(end)-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	if i < 0 {
		t.Fatalf("%v value %q ends in %c", f, v, last)
	}
	sibling := alphabet[i^1]
	bad := end[:len(end)-1] + string(sibling) + v[len(end):]
	if _, err := m.Decode(context.Background(), bad); !errors.Is(err, ErrInvalidCookie) {
		t.Errorf("%v accepted %q (last character %c changed to %c): %v", f, bad, last, sibling, err)
	}
}

// Every codec is shared by all requests: encode and decode concurrently
// (run with -race).
func TestFormatsConcurrent(t *testing.T) {
	for _, f := range allFormats {
		m := ixNew(t, SessionConfig{Format: f, FallbackKeys: []string{ixOld}})
		old, err := ixNew(t, SessionConfig{Format: f, SecretKey: ixOld}).Encode(map[string]any{"k": "old"})
		if err != nil {
			t.Fatal(err)
		}
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
			if err := <-done; err != nil {
				t.Errorf("%v: %v", f, err)
			}
		}
	}
}

// Pinned wire-format vectors, produced once by the real Python libraries
// (Flask 3.1.3 / itsdangerous 2.2, Starlette 0.26 with itsdangerous, PyJWT
// 2.6) with key ixKey at Unix time 1700000000. The interop tests run the
// libraries themselves; these vectors keep the formats pinned even where
// Python is missing.
func TestFormatVectors(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		format Format
		python string // what the Python library wrote
		same   bool   // Go writes the identical value for the same session
		want   map[string]any
	}{
		{FormatFlask, "eyJrIjoidiIsIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9fQ.ZVPxAA.C5aFX5Mqcvnx-zcQib2Ijk0zARY", true, map[string]any{"k": "v"}},
		{FormatFlask, ".eJx9jjELwjAQhf_K8eYM1yJWAw5OumRzk1IipiYgLSTNIKX_3Utw9oYP3uPjeCsW6BUkvDcKFv2m8KiVEOfr6wRpnrURwsyTIt6TsR9qud0Rd5oPmo90Mbei5qoKwf-vKfaQk4tDKJ87SByjSx56idmV9LbJuyTbfhMRpnEWzwcZ2m9fiv8xqA.ZVPxAA.Kql9Sua-g8hBJusjxmZ8kQwS-_w", false,
			map[string]any{"t": []any{json1, "a"}, "b": []byte("\x00x"), "d": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), "u": "00000000-0000-0000-0000-000000000001"}},
		{FormatStarlette, "eyJrIjogInYiLCAiX2N0eHNlc3Npb24iOiB7ImMiOiAxNzAwMDAwMDAwfX0=.ZVPxAA.mwqaObXmDDFd_nRVSXQ6H9mVjj4", false, map[string]any{"k": "v"}},
		{FormatJWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrIjoidiIsIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9LCJleHAiOjE3MDEyMDk2MDAsImlhdCI6MTcwMDAwMDAwMH0.mWcp8YpTZZ_FcdqO5WwSb2R14ui534_aK8gS21AjtQY", true, map[string]any{"k": "v"}},
	} {
		m := ixNew(t, SessionConfig{Format: tc.format, Now: func() time.Time { return t0 }})
		got, err := m.Decode(context.Background(), tc.python)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: Decode(Python's value) = %#v, %v; want %#v", tc.format, got, err, tc.want)
		}
		if tc.same {
			v, err := m.Encode(tc.want)
			if err != nil || v != tc.python {
				t.Errorf("%v: Encode = %s, %v\nwant Python's %s", tc.format, v, err, tc.python)
			}
		}
	}

	// The rich Flask vector also carries Flask-Login's keys and a flash.
	m := ixNew(t, SessionConfig{Format: FormatFlask, Now: func() time.Time { return t0 }})
	d, err := m.codec.Decode(".eJx9jjELwjAQhf_K8eYM1yJWAw5OumRzk1IipiYgLSTNIKX_3Utw9oYP3uPjeCsW6BUkvDcKFv2m8KiVEOfr6wRpnrURwsyTIt6TsR9qud0Rd5oPmo90Mbei5qoKwf-vKfaQk4tDKJ87SByjSx56idmV9LbJuyTbfhMRpnEWzwcZ2m9fiv8xqA.ZVPxAA.Kql9Sua-g8hBJusjxmZ8kQwS-_w", t0)
	if err != nil {
		t.Fatal(err)
	}
	_, md, err := decodePayload(flaskScheme{}, d.Payload)
	want := meta{UserID: "7", Fresh: true, Flashes: []Flash{{"info", "hi"}}}
	if err != nil || !reflect.DeepEqual(md, want) {
		t.Errorf("Flask metadata = %+v, %v; want %+v", md, err, want)
	}
}

// FuzzFormatDecode feeds arbitrary values to the decoder of every format.
// None may panic; every rejection matches ErrInvalidCookie; a value one
// accepts decodes to session keys that encode again and decode to the same
// keys.
func FuzzFormatDecode(f *testing.F) {
	for _, s := range secFuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "e30.AAAA.AAAA", ".eJwDAAAAAAE.AAAA.AAAA", "eyJhbGciOiJub25lIn0.e30.", "MTIzfGFiY3xkZWY=",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhIjoxfQ.", ".eJyrVkpUslIqS8xRqgUAHaIEVw.awJUaQ.d4OiMvgiZPhOLsGB8B5qGrpQEzM"} {
		f.Add(s)
	}
	ms := make([]*Middleware, len(secFormats))
	for i, format := range secFormats {
		ms[i] = secFuzzMiddleware(f, format)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for i, m := range ms {
			format := secFormats[i]
			d, err := m.codec.Decode(value, secT0)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("%v: codec Decode error %v does not match ErrInvalidCookie", format, err)
				}
			} else if v2, err := m.codec.Encode(d.Payload, secT0); err != nil {
				t.Fatalf("%v: codec accepted %q but cannot encode its payload: %v", format, value, err)
			} else if _, err := m.codec.Decode(v2, secT0); err != nil {
				t.Fatalf("%v: codec accepted %q; its payload re-encoded is rejected: %v", format, value, err)
			}

			values, err := m.Decode(context.Background(), value)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("%v: Decode error %v does not match ErrInvalidCookie", format, err)
				}
				continue
			}
			v2, err := m.Encode(values)
			if errors.Is(err, ErrCookieTooLarge) {
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

// Every built-in format rejects every single-character change of a valid
// cookie, including a last base64 character that decodes to the same bits
// (the signature formats compare canonical text; the others decode
// strictly).
func TestSecuritySignatureEveryFormatEveryCharacter(t *testing.T) {
	alphabet := secAlphabet + "+/=|~ "
	for _, f := range []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT, FormatEncrypted} {
		t.Run(f.String(), func(t *testing.T) {
			m := secNew(t, SessionConfig{Format: f})
			v := secIssue(t, m, "alice", map[string]any{"role": "user"})
			if _, err := m.Decode(context.Background(), v); err != nil {
				t.Fatalf("Decode(genuine) = %v", err)
			}
			for i := 0; i < len(v); i++ {
				for _, c := range []byte(alphabet) {
					if c == v[i] {
						continue
					}
					forged := secReplaceAt(v, i, c)
					if _, err := m.Decode(context.Background(), forged); err == nil {
						t.Fatalf("accepted %q changed at %d of %d (%q -> %q)", v, i, len(v), v[i], c)
					}
				}
			}
		})
	}
}
