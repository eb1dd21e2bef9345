package sessions

import "time"

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

// Decode verifies a cookie value as the middleware would (signature, MaxAge,
// IdleTimeout, AbsoluteTimeout, clock skew, strict JSON) and returns its
// session keys, without the reserved metadata (the microdot decode(), but
// with the reason on failure: an error matching ErrInvalidCookie).
func (m *Middleware) Decode(value string) (map[string]any, error) {
	now := m.now()
	if len(m.cfg.CookieName)+1+len(value) > MaxCookieSize {
		return nil, malformed("cookie too large")
	}
	d, err := m.codec.Decode(value, now)
	if err != nil {
		return nil, err
	}
	if err := m.checkAge(d.Issued, now); err != nil {
		return nil, err
	}
	values, md, err := decodePayload(m.scheme, d.Payload)
	if err != nil {
		return nil, err
	}
	if a := m.cfg.AbsoluteTimeout; a > 0 && !md.Created.IsZero() && now.Sub(md.Created) > a {
		return nil, &ExpiredError{Issued: md.Created, Limit: a, Which: "AbsoluteTimeout"}
	}
	return values, nil
}
