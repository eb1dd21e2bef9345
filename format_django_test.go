package sessions

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Django vectors were made by Django 3.2 under djangoKey at Unix time
// pythonUnix.

const djangoKey = "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz"

// newDjangoEnv returns an Env of FormatDjango for cfg, its clock at
// pythonUnix.
func newDjangoEnv(t *testing.T, cfg SessionConfig) *Env {
	t.Helper()
	cfg.Format = FormatDjango
	e := NewEnv(t, cfg)
	e.Clock.Set(time.Unix(pythonUnix, 0))
	return e
}

// DjangoAuthHash is user.get_session_auth_hash() as Django 3.2 computes it.
func TestDjangoAuthHash(t *testing.T) {
	assert.Equal(t, "39078593607fc64b28e334c35d131e09c82930912935a4143fef511dca089c4d",
		DjangoAuthHash(djangoKey, "pbkdf2_sha256$260000$salt$hash="))
}

// Cookies django.core.signing.dumps(compress=True) made for the
// signed_cookies backend at Unix time 1700000000.
func TestDjangoReadsSignedCookies(t *testing.T) {
	e := newDjangoEnv(t, SessionConfig{SecretKey: djangoKey, CookieName: "sessionid"})
	login := ".eJyrVopPLC3JiC8tTi2Kz0xRslIyVNJBFktKTM5OzQNJpGQl5qXn6yXn55UUZSbpgZToQWWL9XzzU1JznKBqUQzISCzOAOpOTEoGiucl5qYCOVH5MaUGBqlJSrUAg00sww:1r31eq:nn1H3mFdeUPHMAn1Ladx4UPLmJSOh-BgGXo2dDG04Fs"
	var created time.Time
	v := e.MustVisit(login, func(_ *http.Request, s *Session) { created = s.Created() })
	assert.Equal(t, "1", v.Seen.UserID, "UserID reads _auth_user_id")
	assert.Equal(t, time.Unix(pythonUnix, 0), created, "the signed time")
	assert.Equal(t, map[string]any{"_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash": "abc", "name": "Zoë"}, v.Seen.Values)

	got, err := e.M.Decode(t.Context(), ".eJyrVsrLL0ktVrJSyhsFRAMlHaXkxKISJatopcSCgpxUpdhaALyEii4:1r31eq:Cl5PAo4C64gst9lpYc8SXC6Clg2yt90sruwdkWFYlFI")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"notes": strings.Repeat("n", 300), "cart": []any{"apple"}}, got)

	for _, bad := range []struct {
		value string
		want  error
	}{
		{strings.Replace(login, "1r31eq", "1r31er", 1), ErrBadSignature},
		{login[:len(login)-1] + "A", ErrBadSignature},
		{"no-separator", ErrMalformed},
		{"abc:" + hmacB64(sha256.New, digest(sha256.New, "django.contrib.sessions.backends.signed_cookies", "signer", djangoKey), "abc"), ErrMalformed}, // signed, no timestamp
	} {
		_, err := e.M.Decode(t.Context(), bad.value)
		assert.ErrorIs(t, err, bad.want, "Decode(%q)", bad.value)
	}
	// A wrong key, and the key as a fallback (re-signed with the new key).
	_, err = newDjangoEnv(t, SessionConfig{SecretKey: TestKey}).M.Decode(t.Context(), login)
	assert.ErrorIs(t, err, ErrBadSignature)
	rotated := newDjangoEnv(t, SessionConfig{SecretKey: TestKey, FallbackKeys: []string{djangoKey}, CookieName: "sessionid"})
	rec := rotated.Do(func(_ http.ResponseWriter, r *http.Request) {
		_, err := GetSession(r.Context())
		require.NoError(t, err)
	}, login)
	c := testkit.SetCookie(t, rec.Header(), "sessionid")
	require.NotNil(t, c, "a fallback-key cookie is re-signed")
	_, err = newDjangoEnv(t, SessionConfig{SecretKey: TestKey}).M.Decode(t.Context(), c.Value)
	assert.NoError(t, err)
}

// What Go writes for Django is ASCII JSON (Django decodes it as latin-1),
// signed over the payload and base62 time, and the login is _auth_user_id.
func TestDjangoWritesASCIIAndLogin(t *testing.T) {
	e := newDjangoEnv(t, SessionConfig{CookieName: "sessionid"})
	rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, Login(r.Context(), "5"))
		s, _ := GetSession(r.Context())
		s.Set("name", "Zoë 😀")
		s.Set("_auth_user_id", "6") // reserved: ignored
	}, "")
	c := testkit.SetCookie(t, rec.Header(), "sessionid")
	require.NotNil(t, c)
	payload64, rest, ok := strings.Cut(c.Value, ":")
	require.True(t, ok, "cookie %q", c.Value)
	assert.True(t, strings.HasPrefix(rest, "1r31eq:"), "base62 timestamp of %d in %q", pythonUnix, c.Value)
	require.False(t, strings.HasPrefix(payload64, "."), "a short payload is not compressed")
	raw, err := base64.RawURLEncoding.DecodeString(payload64)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"Zo\u00eb \ud83d\ude00","_ctxsession":{"c":1700000000},"_auth_user_id":"5"}`, string(raw))
}
