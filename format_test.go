package sessions

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
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

// upperCodec is a user codec: it stores the payload in the clear, reversed
// byte by byte, with no integrity at all (for the test only).
type upperCodec struct{}

func (upperCodec) Encode(p []byte, _ time.Time) (string, error) {
	out := []byte(string(p))
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return "R" + string(encodeB64(out)), nil
}

func (upperCodec) Decode(v string, _ time.Time) (Decoded, error) {
	raw, err := b64.DecodeString(strings.TrimPrefix(v, "R"))
	if err != nil || !strings.HasPrefix(v, "R") {
		return Decoded{}, malformed("not an upperCodec value")
	}
	for i, j := 0, len(raw)-1; i < j; i, j = i+1, j-1 {
		raw[i], raw[j] = raw[j], raw[i]
	}
	return Decoded{Payload: raw}, nil
}

func encodeB64(b []byte) []byte { return b64.AppendEncode(nil, b) }

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

// FuzzFormatsDecode feeds arbitrary values to every format: no panic, and
// either a session or an error matching ErrInvalidCookie.
func BenchmarkFormats(b *testing.B) {
	values := map[string]any{"user": "ann", "cart": []any{"apple", "pear"}, "n": 42, "theme": "dark"}
	for _, f := range allFormats {
		m := ixNew(b, SessionConfig{Format: f})
		v, err := m.Encode(values)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Encode(values); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Decode(context.Background(), v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestFormatsCookieTooLarge(t *testing.T) {
	// Base64 of a pseudo-random stream: no format's compression shrinks
	// it below the limit.
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	big := map[string]any{"blob": base64.StdEncoding.EncodeToString(buf)}
	for _, f := range allFormats {
		m := ixNew(t, SessionConfig{Format: f})
		if v, err := m.Encode(big); !errors.Is(err, ErrCookieTooLarge) {
			t.Errorf("%v: Encode of a 5336-byte value = %d bytes, %v; want ErrCookieTooLarge", f, len(v), err)
		}
	}
}
