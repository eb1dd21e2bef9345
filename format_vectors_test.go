package sessions

import (
	"context"
	"reflect"
	"testing"
	"time"
)

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
