package sessions

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Codec turns a session's JSON payload into a cookie value and back. It
// owns integrity (and, for some formats, confidentiality) and the cookie's
// outer encoding; the middleware owns the JSON, which it parses with the
// same strict decoder for every codec.
//
// Implementations must be safe for concurrent use. Decode must not check the
// age of the value against MaxAge: it reports Issued and the middleware
// applies MaxAge, IdleTimeout and the clock skew. A Decode that fails must
// return an error matching ErrInvalidCookie.
type Codec interface {
	// Encode signs (and may encrypt) payload, a JSON object, recording now
	// as its issue time.
	Encode(payload []byte, now time.Time) (string, error)
	// Decode verifies value and returns its payload and issue time.
	Decode(value string, now time.Time) (Decoded, error)
}

// Decoded is what Codec.Decode returns.
type Decoded struct {
	// Payload is the JSON object that was encoded.
	Payload []byte
	// Issued is the time the value was encoded. The zero time means the
	// format carries no timestamp; the middleware then applies no age check.
	Issued time.Time
	// Stale reports that the value was verified with a fallback key; the
	// middleware re-encodes it with the current key on the same response.
	Stale bool
	// owned reports that Payload is a buffer of its own, which nothing
	// else holds or changes: the parser keeps its strings in it instead of
	// copying it (the built-in codecs that decode into a new buffer).
	owned bool
}

// Format selects one of the built-in cookie formats. The zero value is
// FormatItsdangerous.
type Format int

const (
	// FormatItsdangerous is the default: itsdangerous.URLSafeTimedSerializer
	// with salt "ctxsession:" + CookieName, HMAC key derivation and SHA-256.
	FormatItsdangerous Format = iota
	// FormatFlask is Flask's SecureCookieSessionInterface: itsdangerous
	// URLSafeTimedSerializer, salt "cookie-session", HMAC key derivation,
	// SHA-1, Flask's tagged JSON. The user id and freshness are Flask-Login's
	// "_user_id" and "_fresh", flashes are Flask's "_flashes".
	FormatFlask
	// FormatStarlette is Starlette's SessionMiddleware: base64 (standard
	// alphabet) JSON signed by itsdangerous.TimestampSigner with its
	// defaults (salt "itsdangerous.Signer", django-concat, SHA-1).
	FormatStarlette
	// FormatJWT is microdot's session cookie: an HS256 JWT whose claims are
	// the session. "iat" and "exp" are added when writing and enforced when
	// present, as PyJWT enforces them; any other header than HS256's is
	// rejected, after the MAC. The user id and freshness are
	// microdot.login's "_user_id" and "_fresh".
	FormatJWT
	// FormatEncrypted hides the session as well as signing it:
	// gorilla/securecookie (AES-256-CTR, HMAC-SHA256 over the cookie name,
	// time and value) with keys derived from SecretKey and each FallbackKey
	// by HKDF-SHA256.
	FormatEncrypted
	// FormatDjango is Django's signed_cookies session backend (cookie
	// "sessionid": set CookieName): JSON, zlib when shorter, signed by
	// django.core.signing.TimestampSigner with salt
	// "django.contrib.sessions.backends.signed_cookies" (HMAC-SHA256, a
	// base62 timestamp). The user id is django.contrib.auth's
	// "_auth_user_id"; see SessionConfig.OnLogin and DjangoAuthHash for a
	// login Django accepts.
	FormatDjango
)

var formatNames = [...]string{
	FormatItsdangerous: "itsdangerous",
	FormatFlask:        "flask",
	FormatStarlette:    "starlette",
	FormatJWT:          "jwt",
	FormatEncrypted:    "encrypted",
	FormatDjango:       "django",
}

// String returns the format's name: "itsdangerous", "flask", "starlette",
// "jwt", "encrypted" or "django"; an unknown value prints as "Format(n)".
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Formats returns the built-in formats, FormatItsdangerous first.
func Formats() []Format {
	out := make([]Format, len(formatNames))
	for i := range out {
		out[i] = Format(i)
	}
	return out
}

// MarshalText returns the format's name, as String does. An unknown value
// is an error matching ErrInvalidConfig.
func (f Format) MarshalText() ([]byte, error) {
	if f < 0 || int(f) >= len(formatNames) {
		return nil, fmt.Errorf("%w: unknown Format %d", ErrInvalidConfig, int(f))
	}
	return []byte(formatNames[f]), nil
}

// UnmarshalText sets f to the format called text, one of the names String
// returns (case and surrounding spaces are ignored), so a Format works with
// flag.TextVar, encoding/json and configuration files. An unknown name is
// an error matching ErrInvalidConfig that lists the valid names; f is then
// unchanged.
func (f *Format) UnmarshalText(text []byte) error {
	name := strings.ToLower(strings.TrimSpace(string(text)))
	for i, n := range formatNames {
		if n == name {
			*f = Format(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown format %q (want one of %s)", ErrInvalidConfig, text, strings.Join(formatNames[:], ", "))
}

// build returns the codec and metadata scheme of a built-in format. keys are
// SecretKey then the FallbackKeys; cfg has its defaults applied.
func (f Format) build(keys [][]byte, cfg *SessionConfig) (Codec, scheme, error) {
	switch f {
	case FormatItsdangerous:
		return newItsdangerousCodec(newSigner(keys, "ctxsession:"+cfg.CookieName, digestSHA256, deriveHMAC)), defaultScheme{}, nil
	case FormatFlask:
		return newFlaskCodec(keys), flaskScheme{}, nil
	case FormatStarlette:
		return newStarletteCodec(keys), defaultScheme{}, nil
	case FormatJWT:
		return newJWTCodec(keys, cfg.MaxAge, cfg.ClockSkew), jwtScheme{}, nil
	case FormatEncrypted:
		c, err := newEncryptedCodec(keys, cfg.CookieName, cfg.MaxAge)
		if err != nil {
			return nil, nil, err
		}
		return c, defaultScheme{}, nil
	case FormatDjango:
		return newDjangoCodec(keys), djangoScheme{}, nil
	}
	return nil, nil, configErr("unknown Format %d", int(f))
}
