package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file implements FormatJWT, microdot's session cookie: an HS256 JWT
// whose claims are the session dict, signed with the secret key as it is.
// microdot writes jwt.encode(session, key, algorithm="HS256") and reads
// jwt.decode(token, key, algorithms=["HS256"]) with PyJWT, any error
// giving an empty session.
//
// Reading, the HMAC over the raw "header.payload" bytes is checked first,
// with every key, before anything of the token is decoded: a forged token
// costs one HMAC per key and no allocation, as a forged itsdangerous
// cookie does. Only then is the header read; it must say
// {"alg":"HS256","typ":"JWT"} and nothing else (no "crit", no other
// member, no member twice), so no other algorithm is ever considered.
// The claims PyJWT checks are checked as PyJWT checks them: "exp" (expired
// from the second it names, with ClockSkew as leeway, which PyJWT in
// microdot does not grant), "nbf" and "iat" (not in the future beyond
// ClockSkew); "iat" is the issue time, from which MaxAge and IdleTimeout
// count, and an "iat" before 1970 is expired. A token with "aud" is
// refused, as PyJWT refuses it when no audience is expected.
//
// Writing adds "iat" (the issue time) and "exp" (iat + MaxAge). A token
// without "iat" (microdot writes none of its own) has no age, so MaxAge
// and IdleTimeout cannot apply to it; "exp" still does.

// jwtHeader is the only header FormatJWT writes, in the bytes PyJWT writes
// it (members sorted, no spaces), and jwtHeader64 its base64url form.
const (
	jwtHeader   = `{"alg":"HS256","typ":"JWT"}`
	jwtHeader64 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
)

// jwtCodec is the FormatJWT codec.
type jwtCodec struct {
	s      *signer // HMAC-SHA256 with each key as it is; keys[0] signs
	maxAge time.Duration
	skew   time.Duration
}

func newJWTCodec(keys [][]byte, maxAge, skew time.Duration) *jwtCodec {
	return &jwtCodec{s: newSigner(keys, "", digestSHA256, deriveNone), maxAge: maxAge, skew: skew}
}

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

	out := make([]byte, 0, len(jwtHeader64)+1+b64.EncodedLen(len(claims))+1+c.s.sigLen)
	out = append(out, jwtHeader64+"."...)
	out = b64.AppendEncode(out, claims)
	return string(c.s.appendSig(out)), nil
}

func (c *jwtCodec) Decode(value string, now time.Time) (Decoded, error) {
	signed, stale, err := c.s.unsignRaw(value)
	if err != nil {
		return Decoded{}, err
	}
	header, claims64, ok := strings.Cut(signed, ".")
	if !ok || strings.IndexByte(claims64, '.') >= 0 {
		return Decoded{}, malformed("a JWT has three segments")
	}
	if err := checkJWTHeader(header); err != nil {
		return Decoded{}, err
	}
	payload, err := b64.DecodeString(claims64)
	if err != nil {
		return Decoded{}, malformed("bad JWT claims encoding")
	}
	issued, err := c.checkClaims(payload, now)
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Payload: payload, Issued: issued, Stale: stale}, nil
}

// checkJWTHeader accepts the header PyJWT writes for HS256, and any
// encoding of the same JSON object: exactly "alg": "HS256" and
// "typ": "JWT", each once.
func checkJWTHeader(header64 string) error {
	if header64 == jwtHeader64 {
		return nil
	}
	raw, err := b64.DecodeString(header64)
	if err != nil {
		return malformed("bad JWT header encoding")
	}
	h, err := parseObject(raw) // refuses a member given twice
	if err != nil {
		return malformed("JWT header: " + err.Error())
	}
	if _, ok := h["crit"]; ok {
		return malformed(`JWT header has "crit": no extension is understood`)
	}
	if h["alg"] != jwtAlg || h["typ"] != "JWT" || len(h) != 2 {
		return malformed(`JWT header is not {"alg":"HS256","typ":"JWT"}`)
	}
	return nil
}

// jwtAlg is the only algorithm FormatJWT signs and accepts.
const jwtAlg = "HS256"

// Claims FormatJWT owns (the time claims) or refuses (aud).
const (
	jwtIssuedAt  = "iat"
	jwtExpires   = "exp"
	jwtNotBefore = "nbf"
	jwtAudience  = "aud"
)

// checkClaims applies the claims PyJWT checks, as PyJWT checks them, and
// returns the issue time ("iat"; zero when absent).
func (c *jwtCodec) checkClaims(payload []byte, now time.Time) (time.Time, error) {
	claims, err := parseObject(payload)
	if err != nil {
		return time.Time{}, err
	}
	if _, ok := claims[jwtAudience]; ok {
		return time.Time{}, malformed(`JWT has an "aud" claim, which PyJWT refuses when no audience is expected`)
	}
	exp, hasExp, err := claimTime(claims, jwtExpires)
	if err != nil {
		return time.Time{}, err
	}
	nbf, hasNbf, err := claimTime(claims, jwtNotBefore)
	if err != nil {
		return time.Time{}, err
	}
	iat, hasIat, err := claimTime(claims, jwtIssuedAt)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case hasIat && iat.Before(time.Unix(0, 0)):
		return time.Time{}, &ExpiredError{Issued: iat, Limit: c.maxAge, Which: "iat"}
	case hasExp && !now.Before(exp.Add(c.skew)):
		e := &ExpiredError{Issued: iat, Which: "exp"}
		if hasIat {
			e.Limit = exp.Sub(iat)
		}
		return time.Time{}, e
	case hasNbf && nbf.After(now.Add(c.skew)):
		return time.Time{}, fmt.Errorf("%w: JWT not valid before %s", ErrFuture, nbf.UTC().Format(time.RFC3339))
	}
	// A future iat is the middleware's ErrFuture (checkAge), as for every
	// format.
	return iat, nil
}

// maxClaimSeconds bounds the times a claim can name (about 31 million
// years either way): beyond it a time is as far as it, which changes no
// comparison and keeps time arithmetic from overflowing.
const maxClaimSeconds = 1e15

// claimTime reads a NumericDate claim: a JSON number of seconds, possibly
// fractional, as PyJWT accepts it. NaN and the infinities are not times.
func claimTime(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, isNum := v.(json.Number)
	f, err := n.Float64()
	if !isNum || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, true, malformed(fmt.Sprintf("JWT claim %q is not a number of seconds", name))
	}
	f = max(-maxClaimSeconds, min(f, maxClaimSeconds))
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// Keys of FormatJWT's metadata: the user id and its freshness where
// microdot.login.Login keeps them; creation time and flashes, which
// microdot has no place for, under ReservedKey.
const (
	jwtUserID = "_user_id"
	jwtFresh  = "_fresh"
)

// jwtScheme is microdot's: microdot.login's "_user_id" and "_fresh", the
// rest of the metadata as the default scheme keeps it. The time claims are
// the codec's; a session key PyJWT would check is an error when saving.
type jwtScheme struct{ defaultScheme }

func (s jwtScheme) reserved(key string) bool {
	return key == jwtUserID || key == jwtFresh || s.defaultScheme.reserved(key)
}

// jwtCheckedClaims are the claims PyJWT validates in microdot's decode.
var jwtCheckedClaims = [...]string{jwtExpires, jwtNotBefore, jwtIssuedAt, jwtAudience}

func (s jwtScheme) appendValues(dst []byte, values map[string]any) ([]byte, error) {
	for _, k := range jwtCheckedClaims {
		if _, ok := values[k]; ok {
			return dst, fmt.Errorf("sessions: session key %q is a JWT claim that PyJWT validates (microdot would read the session as empty): FormatJWT writes iat and exp itself; use another key", k)
		}
	}
	return s.defaultScheme.appendValues(dst, values)
}

func (s jwtScheme) split(values map[string]any) (meta, error) {
	delete(values, jwtIssuedAt)
	delete(values, jwtExpires)
	delete(values, jwtNotBefore)
	uid, hasUID := values[jwtUserID]
	fresh, hasFresh := values[jwtFresh]
	delete(values, jwtUserID)
	delete(values, jwtFresh)
	m, err := s.defaultScheme.split(values)
	if err != nil {
		return meta{}, err
	}
	if hasUID {
		switch id := uid.(type) {
		case string:
			m.UserID = id
		case json.Number: // microdot stores user.id as it is, often an int
			m.UserID = string(id)
		case nil: // no user
			m.UserID = ""
		default:
			return meta{}, malformed(jwtUserID + " is not a string or a number")
		}
	}
	if hasFresh {
		if m.Fresh, hasFresh = fresh.(bool); !hasFresh {
			return meta{}, malformed(jwtFresh + " is not a bool")
		}
	}
	return m, nil
}

func (s jwtScheme) appendMeta(dst []byte, m meta) []byte {
	dst = appendReservedObject(dst, m)
	if m.UserID != "" || m.Fresh {
		dst = append(dst, `,"`+jwtFresh+`":`...)
		dst = strconv.AppendBool(dst, m.Fresh)
	}
	if m.UserID != "" {
		dst = append(dst, `,"`+jwtUserID+`":`...)
		dst = appendString(dst, m.UserID)
	}
	return dst
}
