package sessions

import (
	"context"
	"time"
)

// Encode returns a cookie value holding values, exactly as the middleware
// would write it in cookie mode (the microdot encode()): for tests, for
// migrations, and for minting sessions in another process. Keys the format
// reserves are dropped. It returns ErrCookieTooLarge if the value would not
// fit in a cookie.
func (m *Middleware) Encode(values map[string]any) (string, error) {
	return m.EncodeAt(values, m.now())
}

// EncodeAt is Encode with a chosen issue time.
func (m *Middleware) EncodeAt(values map[string]any, now time.Time) (string, error) {
	user := make(map[string]any, len(values))
	for k, v := range values {
		if !m.scheme.reserved(k) {
			user[k] = v
		}
	}
	payload, err := encodePayload(nil, m.scheme, user, meta{Created: now})
	if err != nil {
		return "", err
	}
	v, err := m.codec.Encode(payload, now)
	if err != nil {
		return "", err
	}
	if len(m.cfg.CookieName)+1+len(v) > MaxCookieSize {
		return "", ErrCookieTooLarge
	}
	return v, nil
}

// Decode verifies a cookie value as the middleware does in cookie mode
// (size, signature, MaxAge, IdleTimeout, AbsoluteTimeout, clock skew,
// strict JSON and, with a RevocationStore, DestroyUser) and returns its
// session keys, without the reserved metadata (the microdot decode(), but
// with the reason on failure: an error matching ErrInvalidCookie, or
// ErrStore when the RevocationStore fails).
func (m *Middleware) Decode(value string) (map[string]any, error) {
	v, err := cookieMode{m}.load(context.Background(), value, m.now())
	if err != nil {
		return nil, err
	}
	return v.values, nil
}
