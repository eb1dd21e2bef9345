package sessions

import (
	"context"
)

// Encode returns a cookie value holding values, exactly as the middleware
// would write it in cookie mode (the microdot encode()): for tests, for
// migrations, and for minting sessions in another process. Keys the format
// reserves are dropped. It returns ErrCookieTooLarge if the value would not
// fit in a cookie. The issue time is SessionConfig.Now's (default time.Now).
func (m *Middleware) Encode(values map[string]any) (string, error) {
	now := m.now()
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
	v, err := cookieMode{m}.encode(payload, now)
	if err != nil {
		return "", err
	}
	return v, nil
}

// Decode verifies a cookie value as the middleware does in cookie mode
// (size, signature, MaxAge, IdleTimeout, AbsoluteTimeout, clock skew,
// strict JSON and, with a RevocationStore, DestroyUser) and returns its
// session keys, without the reserved metadata (the microdot decode(), but
// with the reason on failure: an error matching ErrInvalidCookie, or
// ErrStore when the RevocationStore fails).
func (m *Middleware) Decode(ctx context.Context, value string) (map[string]any, error) {
	v, err := cookieMode{m}.load(ctx, value, m.now())
	if err != nil {
		return nil, err
	}
	return v.values, nil
}
