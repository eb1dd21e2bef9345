package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sessions "github.com/ctxsession/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUserOf reads the user where each format keeps it, and nowhere else.
func TestUserOf(t *testing.T) {
	tests := []struct {
		name    string
		format  sessions.Format
		payload string
		want    user
	}{
		{"default", sessions.FormatItsdangerous, `{"_ctxsession":{"uid":"alice","c":1}}`, user{id: "alice", key: "_ctxsession.uid"}},
		{"default, none", sessions.FormatItsdangerous, `{"a":1}`, user{key: "_ctxsession.uid"}},
		{"default, empty", sessions.FormatItsdangerous, `{"_ctxsession":{"uid":""}}`, user{key: "_ctxsession.uid"}},
		{"default, number", sessions.FormatItsdangerous, `{"_ctxsession":{"uid":7}}`, user{key: "_ctxsession.uid", bad: "_ctxsession.uid is not a string"}},
		{"default, meta not an object", sessions.FormatItsdangerous, `{"_ctxsession":"alice"}`, user{key: "_ctxsession.uid", bad: "_ctxsession is not an object"}},
		{"default ignores flask's key", sessions.FormatItsdangerous, `{"_user_id":"7"}`, user{key: "_ctxsession.uid"}},
		{"starlette ignores flask's key", sessions.FormatStarlette, `{"_user_id":"7"}`, user{key: "_ctxsession.uid"}},
		{"starlette", sessions.FormatStarlette, `{"_ctxsession":{"uid":"bo"}}`, user{id: "bo", key: "_ctxsession.uid"}},
		{"flask", sessions.FormatFlask, `{"_user_id":"7","_fresh":true}`, user{id: "7", key: "_user_id"}},
		{"flask, number", sessions.FormatFlask, `{"_user_id":12345678901234567890}`, user{id: "12345678901234567890", key: "_user_id"}},
		{"flask, null", sessions.FormatFlask, `{"_user_id":null}`, user{key: "_user_id", bad: "_user_id is not a string"}},
		{"flask ignores uid", sessions.FormatFlask, `{"_ctxsession":{"uid":"alice"}}`, user{key: "_user_id"}},
		{"jwt sub is not the user", sessions.FormatJWT, `{"sub":"carol"}`, user{key: "_user_id", sub: "carol"}},
		{"jwt uid and sub", sessions.FormatJWT, `{"sub":"carol","_ctxsession":{"uid":"cy"}}`, user{id: "cy", key: "_ctxsession.uid", sub: "carol"}},
		{"jwt microdot login", sessions.FormatJWT, `{"_user_id":7,"_fresh":true}`, user{id: "7", key: "_user_id"}},
		{"django login", sessions.FormatDjango, `{"_auth_user_id":"3"}`, user{id: "3", key: "_auth_user_id"}},
		{"django bad user", sessions.FormatDjango, `{"_auth_user_id":[3]}`, user{key: "_auth_user_id", bad: "_auth_user_id is not a string"}},
		{"not json", sessions.FormatItsdangerous, `{`, user{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, userOf([]byte(tt.payload), tt.format), "userOf(%s, %s)", tt.payload, tt.format)
		})
	}
}

// parseFormat returns the library's Format named name.
func parseFormat(t *testing.T, name string) sessions.Format {
	t.Helper()
	var f sessions.Format
	require.NoError(t, f.UnmarshalText([]byte(name)))
	return f
}

// TestUserOfLibraryCookies logs a user in through the middleware in every
// format and checks that decode and verify report that user, from the key
// the format keeps it under.
func TestUserOfLibraryCookies(t *testing.T) {
	for _, name := range formatNames() {
		t.Run(name, func(t *testing.T) {
			f := parseFormat(t, name)
			m, err := sessions.New(sessions.SessionConfig{SecretKey: testKey, Format: f, Now: func() time.Time { return t0 }})
			require.NoError(t, err)
			uid := "u-" + name
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.NoError(t, sessions.Login(r.Context(), uid))
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			var value string
			for _, c := range rec.Result().Cookies() {
				if c.Name == sessions.DefaultCookieName {
					value = c.Value
				}
			}
			require.NotEmpty(t, value, "no session cookie written")
			key := frameworkUserKey(f)
			if key == "" {
				key = "_ctxsession.uid"
			}
			want := "user:     " + uid + " (from " + key + ")"
			for _, args := range [][]string{
				{"decode", "--format", name, value},
				{"verify", "--key", testKey, "--format", name, value},
			} {
				code, out, errs := ctl(t, t0, "", args...)
				require.Equal(t, 0, code, "%s: exit code; stderr %q", args[0], errs)
				if f == sessions.FormatEncrypted {
					// Without the key the payload cannot be read, and
					// Decode does not return the metadata.
					assert.NotContains(t, out, "user:", "%s of an encrypted cookie shows a user", args[0])
					continue
				}
				assert.Contains(t, out, want, "%s stdout", args[0])
				assert.NotContains(t, out, "sub:", "%s stdout shows a sub the cookie does not have", args[0])
			}
		})
	}
}

// TestDecodeInvalidUser: a user field the library would reject is shown
// as such, not as a user.
func TestDecodeInvalidUser(t *testing.T) {
	value := b64url(`{"_ctxsession":{"uid":7}}`) + "." + ts(t0) + "." + strings.Repeat("A", 43)
	code, out, errs := ctl(t, t0, "", "decode", value)
	require.Equal(t, 0, code, "decode: exit code; stderr %q", errs)
	assert.Contains(t, out, "user:     invalid: _ctxsession.uid is not a string; the library rejects this cookie")
}
