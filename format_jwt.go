package sessions

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// This file implements FormatJWT, microdot's session cookie: an HS256 JWT
// (github.com/golang-jwt/jwt/v5) whose claims are the session, signed with
// the secret key as is. Writing adds "iat" (the issue time) and "exp" (iat +
// MaxAge); reading enforces "exp", "nbf" and "iat" when present (within
// ClockSkew), takes the issue time from "iat", and accepts no alg but HS256:
// "none", HS384/HS512 and every asymmetric alg are rejected before any key
// is tried. A token without "iat" (microdot writes none) has no age, so
// MaxAge and IdleTimeout cannot apply to it; "exp" still does.

// jwtAlg is the only algorithm FormatJWT signs and accepts.
var jwtAlg = jwt.SigningMethodHS256

// jwtCodec is the FormatJWT codec.
type jwtCodec struct {
	keys   [][]byte // keys[0] signs
	maxAge time.Duration
	skew   time.Duration
}

func newJWTCodec(keys [][]byte, maxAge, skew time.Duration) *jwtCodec {
	return &jwtCodec{keys: keys, maxAge: maxAge, skew: skew}
}

// rawClaims are claims already encoded as a JSON object; they exist only
// to be signed by jwt.Token.
type rawClaims []byte

func (c rawClaims) MarshalJSON() ([]byte, error)               { return c, nil }
func (rawClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (rawClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (rawClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (rawClaims) GetIssuer() (string, error)                   { return "", nil }
func (rawClaims) GetSubject() (string, error)                  { return "", nil }
func (rawClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func (c *jwtCodec) Encode(payload []byte, now time.Time) (string, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) < 2 || payload[0] != '{' || payload[len(payload)-1] != '}' {
		return "", errors.New("sessions: JWT claims must be a JSON object")
	}
	claims := make([]byte, 0, len(payload)+48)
	claims = append(claims, payload[:len(payload)-1]...)
	if len(bytes.TrimSpace(payload[1:len(payload)-1])) > 0 {
		claims = append(claims, ',')
	}
	claims = append(claims, `"exp":`...)
	claims = strconv.AppendInt(claims, now.Add(c.maxAge).Unix(), 10)
	claims = append(claims, `,"iat":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, '}')
	return jwt.NewWithClaims(jwtAlg, rawClaims(claims)).SignedString(c.keys[0])
}

func (c *jwtCodec) Decode(value string, now time.Time) (Decoded, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwtAlg.Alg()}),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.skew),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	stale := false
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(value, claims, c.keyFunc(c.keys[:1]))
	if err != nil && len(c.keys) > 1 && isJWTBadSignature(err) {
		claims = jwt.MapClaims{}
		_, err = p.ParseWithClaims(value, claims, c.keyFunc(c.keys[1:]))
		stale = true
	}
	if err != nil {
		return Decoded{}, jwtError(err, claims)
	}
	// The middleware parses the claims itself, with the strict decoder.
	i := strings.IndexByte(value, '.')
	j := strings.LastIndexByte(value, '.')
	payload, err := base64.RawURLEncoding.Strict().DecodeString(value[i+1 : j])
	if err != nil {
		return Decoded{}, malformed("bad JWT claims encoding")
	}
	d := Decoded{Payload: payload, Stale: stale}
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		d.Issued = iat.Time
	}
	return d, nil
}

// keyFunc returns the keys, for HS256 tokens only (the parser has already
// refused every other alg; this is a second lock on the same door).
func (c *jwtCodec) keyFunc(keys [][]byte) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if t.Method != jwtAlg {
			return nil, errors.New("unexpected signing method")
		}
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(keys))}
		for i, k := range keys {
			set.Keys[i] = k
		}
		return set, nil
	}
}

func isJWTBadSignature(err error) bool {
	return errors.Is(err, jwt.ErrTokenSignatureInvalid) && !errors.Is(err, jwt.ErrTokenMalformed)
}

// jwtError maps a jwt error to the package's cookie errors.
func jwtError(err error, claims jwt.MapClaims) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return malformed("bad JWT: " + err.Error())
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		e := &ExpiredError{Which: "exp"}
		if exp, _ := claims.GetExpirationTime(); exp != nil {
			if iat, _ := claims.GetIssuedAt(); iat != nil {
				e.Issued, e.Limit = iat.Time, exp.Sub(iat.Time)
			}
		}
		return e
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("%w: %v", ErrFuture, err)
	}
	return malformed("bad JWT claims: " + err.Error())
}

// Reserved claims of FormatJWT.
const (
	jwtIssuedAt  = "iat"
	jwtExpires   = "exp"
	jwtNotBefore = "nbf"
)

// jwtScheme is the default scheme plus the registered time claims, which
// the codec owns.
type jwtScheme struct{ defaultScheme }

func (s jwtScheme) reserved(key string) bool {
	return key == jwtIssuedAt || key == jwtExpires || key == jwtNotBefore || s.defaultScheme.reserved(key)
}

func (s jwtScheme) split(values map[string]any) (meta, error) {
	delete(values, jwtIssuedAt)
	delete(values, jwtExpires)
	delete(values, jwtNotBefore)
	return s.defaultScheme.split(values)
}
