package main

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	sessions "github.com/ctxsession/sessions"
)

// This file reads a cookie WITHOUT verifying it: it undoes the outer
// encodings of every format (base64, zlib, JWT segments, the securecookie
// frame) so that an operator can see what a browser holds. Nothing here
// checks a signature; verify does that through the library.
//
// parseTimestamp and inflate repeat the library's own (signer.go,
// codec.go), which are unexported: the library deliberately exports no
// way to read a payload without verifying it, and this command does not
// add one. The tests pin both to the library's behaviour through cookies
// the library mints (TestSignVerifyFormats) and through its limits.

// maxInflate caps the decompressed size of a payload, as the library does.
const maxInflate = 64 << 10

// An inspection is what can be read from a cookie without its key.
type inspection struct {
	Format  sessions.Format // detected or given
	Guess   string          // why the format was chosen, "" when given by the user
	Payload []byte          // the JSON object, nil when it cannot be read without the key
	Issued  time.Time       // when it was signed; zero when the format has no timestamp
	Expires time.Time       // JWT "exp"; zero when absent
	Note    string          // what the payload is when it is not readable
	StoreID bool            // the cookie is a signed server-side session id
}

var (
	rawURL = base64.RawURLEncoding.Strict()
	stdPad = base64.StdEncoding.Strict()
	urlPad = base64.URLEncoding.Strict()
)

// inspect reads value in the named format (a name sessions.Format
// reads), or detects the format when name is "".
func inspect(value, name string) (inspection, error) {
	if value == "" {
		return inspection{}, errors.New("empty cookie value")
	}
	if name == "" {
		return detect(value)
	}
	f, err := libFormat(name)
	if err != nil {
		return inspection{}, err
	}
	switch f {
	case sessions.FormatItsdangerous, sessions.FormatFlask, sessions.FormatStarlette:
		return inspectTimestamped(value, f)
	case sessions.FormatJWT:
		return inspectJWT(value)
	case sessions.FormatEncrypted:
		return inspectEncrypted(value)
	case sessions.FormatDjango:
		return inspectDjango(value)
	}
	return inspection{}, fmt.Errorf("format %s cannot be read without its key", f)
}

// detect picks the format from the value's shape.
func detect(value string) (inspection, error) {
	if strings.Count(value, ":") == 2 {
		in, err := inspectDjango(value)
		if err != nil {
			return in, fmt.Errorf("not a session cookie of any known format: %v", err)
		}
		in.Guess = "':' separators, base62 timestamp"
		return in, nil
	}
	if !strings.Contains(value, ".") {
		in, err := inspectEncrypted(value)
		if err != nil {
			return in, errors.New("not a session cookie of any known format (no '.' separators and not a securecookie value)")
		}
		in.Guess = "no '.' separators, securecookie frame"
		return in, nil
	}
	if strings.Count(value, ".") == 2 && strings.HasPrefix(value, "eyJ") {
		if in, err := inspectJWT(value); err == nil {
			in.Guess = "three segments with a JWT header"
			return in, nil
		}
	}
	payload, _, sig, err := splitTimestamped(value)
	if err != nil {
		return inspection{}, fmt.Errorf("not a session cookie of any known format: %v", err)
	}
	switch len(sig) {
	case 43: // HMAC-SHA256
		in, err := inspectTimestamped(value, sessions.FormatItsdangerous)
		if err == nil {
			in.Guess = "SHA-256 signature"
		}
		return in, err
	case 27: // HMAC-SHA1: Flask or Starlette
		// Starlette pads standard base64; Flask uses unpadded base64url
		// and may compress. A padding-free payload of neither alphabet's
		// own characters reads the same either way.
		format, guess := sessions.FormatFlask, "SHA-1 signature, base64url payload"
		ambiguous := false
		switch {
		case strings.ContainsAny(payload, "+/="):
			format, guess = sessions.FormatStarlette, "SHA-1 signature, standard base64 payload"
		case strings.HasPrefix(payload, ".") || strings.ContainsAny(payload, "-_") || len(payload)%4 != 0:
		default:
			ambiguous = true
		}
		in, err := inspectTimestamped(value, format)
		if err != nil {
			return in, err
		}
		in.Guess = guess
		if ambiguous {
			in.Guess = "SHA-1 signature; the payload would also read as Starlette's"
			if hasFlaskKeys(in.Payload) {
				in.Guess = "SHA-1 signature, Flask's keys"
			}
		}
		return in, nil
	}
	return inspection{}, fmt.Errorf("not a session cookie of any known format: a %d-character signature", len(sig))
}

// splitTimestamped splits an itsdangerous TimestampSigner value into
// payload, timestamp and signature. A zlib payload starts with '.'.
func splitTimestamped(value string) (payload string, ts int64, sig string, err error) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", 0, "", errors.New("no signature")
	}
	j := strings.LastIndexByte(value[:i], '.')
	if j < 0 {
		return "", 0, "", errors.New("no timestamp")
	}
	payload, sig = value[:j], value[i+1:]
	ts, err = parseTimestamp(value[j+1 : i])
	if err != nil {
		return "", 0, "", err
	}
	if payload == "" || payload == "." {
		return "", 0, "", errors.New("empty payload")
	}
	return payload, ts, sig, nil
}

// parseTimestamp reads itsdangerous's base64url big-endian timestamp.
func parseTimestamp(s string) (int64, error) {
	b, err := rawURL.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > 8 || (b[0] == 0 && len(b) > 1) {
		return 0, fmt.Errorf("bad timestamp %q", s)
	}
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("bad timestamp %q", s)
	}
	return int64(n), nil
}

// inspectTimestamped reads the itsdangerous-family formats: the default and
// Flask (base64url, '.'-prefixed zlib when compressed) and Starlette
// (standard base64 with padding, never compressed).
func inspectTimestamped(value string, format sessions.Format) (inspection, error) {
	payload, ts, _, err := splitTimestamped(value)
	if err != nil {
		return inspection{}, err
	}
	in := inspection{Format: format, Issued: time.Unix(ts, 0)}
	var raw []byte
	if format == sessions.FormatStarlette {
		raw, err = stdPad.DecodeString(payload)
		if err != nil {
			return inspection{}, errors.New("payload is not standard base64")
		}
	} else {
		compressed := strings.HasPrefix(payload, ".")
		raw, err = rawURL.DecodeString(strings.TrimPrefix(payload, "."))
		if err != nil {
			return inspection{}, errors.New("payload is not base64url")
		}
		if compressed {
			if raw, err = inflate(raw); err != nil {
				return inspection{}, err
			}
		}
	}
	if len(raw) == 32 && format == sessions.FormatItsdangerous && !json.Valid(raw) {
		in.Note = "a server-side session id: the data is in the store, not in the cookie"
		in.StoreID = true
		return in, nil
	}
	if err := checkObject(raw); err != nil {
		return inspection{}, err
	}
	in.Payload = raw
	return in, nil
}

// inflate decompresses zlib data, refusing output over maxInflate.
func inflate(raw []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, errors.New("payload is not valid zlib")
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxInflate+1))
	if err != nil {
		return nil, errors.New("payload is not valid zlib")
	}
	if len(out) > maxInflate {
		return nil, fmt.Errorf("payload inflates to more than %d bytes", maxInflate)
	}
	return out, nil
}

// inspectDjango reads Django's signed_cookies value:
// payload:base62 timestamp:signature, the payload "." + base64url(zlib) when
// compressed. Django reads the JSON as latin-1.
func inspectDjango(value string) (inspection, error) {
	parts := strings.Split(value, ":")
	if len(parts) != 3 {
		return inspection{}, fmt.Errorf("a Django session cookie has 3 ':'-separated parts, this has %d", len(parts))
	}
	ts, ok := parseBase62(parts[1])
	if !ok {
		return inspection{}, fmt.Errorf("bad timestamp %q", parts[1])
	}
	compressed := strings.HasPrefix(parts[0], ".")
	raw, err := rawURL.DecodeString(strings.TrimPrefix(parts[0], "."))
	if err != nil {
		return inspection{}, errors.New("payload is not base64url")
	}
	if compressed {
		if raw, err = inflate(raw); err != nil {
			return inspection{}, err
		}
	}
	if err := checkObject(raw); err != nil {
		return inspection{}, err
	}
	return inspection{Format: sessions.FormatDjango, Payload: raw, Issued: time.Unix(ts, 0)}, nil
}

// parseBase62 reads Django's base62 timestamp (digits, then A-Z, then a-z).
func parseBase62(s string) (int64, bool) {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if s == "" || len(s) > 11 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(digits, s[i])
		if d < 0 || n > (1<<62-int64(d))/62 {
			return 0, false
		}
		n = n*62 + int64(d)
	}
	return n, true
}

// inspectJWT reads header.claims.signature.
func inspectJWT(value string) (inspection, error) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		return inspection{}, fmt.Errorf("a JWT has 3 segments, this has %d", len(parts))
	}
	head, err := rawURL.DecodeString(parts[0])
	if err != nil {
		return inspection{}, errors.New("JWT header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(head, &h); err != nil || h.Alg == "" {
		return inspection{}, errors.New("JWT header is not a JSON object with \"alg\"")
	}
	claims, err := rawURL.DecodeString(parts[1])
	if err != nil {
		return inspection{}, errors.New("JWT claims are not base64url")
	}
	if err := checkObject(claims); err != nil {
		return inspection{}, err
	}
	var times struct {
		Iat, Exp json.Number
	}
	dec := json.NewDecoder(bytes.NewReader(claims))
	dec.UseNumber()
	if err := dec.Decode(&times); err != nil {
		return inspection{}, errors.New("JWT \"iat\" or \"exp\" is not a number")
	}
	in := inspection{Format: sessions.FormatJWT, Payload: claims, Note: "alg " + h.Alg}
	if in.Issued, err = claimTime(times.Iat, "iat"); err != nil {
		return inspection{}, err
	}
	if in.Expires, err = claimTime(times.Exp, "exp"); err != nil {
		return inspection{}, err
	}
	return in, nil
}

func claimTime(n json.Number, name string) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("JWT %q is not a valid time", name)
	}
	return time.Unix(int64(f), 0), nil
}

// inspectEncrypted reads the securecookie frame base64url("date|value|mac").
// The value is encrypted: only the date can be read without the key.
func inspectEncrypted(value string) (inspection, error) {
	raw, err := urlPad.DecodeString(value)
	if err != nil {
		return inspection{}, errors.New("not base64url (securecookie)")
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	if len(parts) != 3 {
		return inspection{}, errors.New("not a securecookie date|value|mac frame")
	}
	ts, err := strconv.ParseInt(string(parts[0]), 10, 64)
	if err != nil || ts < 0 {
		return inspection{}, errors.New("securecookie date is not a number")
	}
	return inspection{
		Format: sessions.FormatEncrypted,
		Issued: time.Unix(ts, 0),
		Note:   "encrypted: the payload can only be read with the key (sessionctl verify --format encrypted)",
	}, nil
}

// hasFlaskKeys reports whether a payload has a key only Flask writes:
// Flask-Login's, flashes, or a tagged value (" t").
func hasFlaskKeys(payload []byte) bool {
	for _, k := range []string{`"_user_id"`, `"_fresh"`, `"_flashes"`, `" t"`} {
		if bytes.Contains(payload, []byte(k)) {
			return true
		}
	}
	return false
}

// checkObject reports whether raw is one JSON object.
func checkObject(raw []byte) error {
	if !json.Valid(raw) || len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return errors.New("payload is not a JSON object")
	}
	return nil
}

// A user is what the library would take as a payload's logged-in user.
type user struct {
	id  string // the user id; "" when none
	key string // where the format keeps it
	bad string // why the library would reject the cookie for it; "" if it would not
	sub string // a JWT's "sub" claim, which the library does not read as the user
}

// userOf reads a payload's user where the library's format f keeps it
// (the metadata schemes of meta.go and the format files): Flask-Login's
// "_user_id" for FormatFlask and microdot.login's for FormatJWT (a string
// or a number), Django's "_auth_user_id" for FormatDjango, and
// "_ctxsession"."uid", a string, for the other formats (and for a JWT
// without "_user_id").
func userOf(payload []byte, f sessions.Format) user {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if dec.Decode(&obj) != nil {
		return user{}
	}
	var u user
	if f == sessions.FormatJWT {
		switch v := obj["sub"].(type) {
		case string:
			u.sub = v
		case json.Number:
			u.sub = v.String()
		}
	}
	switch key := frameworkUserKey(f); {
	case key != "" && (f != sessions.FormatJWT || obj[key] != nil):
		u.key = key
		v, ok := obj[key]
		if !ok {
			return u
		}
		switch v := v.(type) {
		case string:
			u.id = v
		case json.Number:
			u.id = v.String()
		default:
			u.bad = key + " is not a string"
		}
		return u
	}
	u.key = sessions.ReservedKey + ".uid"
	raw, ok := obj[sessions.ReservedKey]
	if !ok {
		if f == sessions.FormatJWT {
			u.key = "_user_id"
		}
		return u
	}
	meta, ok := raw.(map[string]any)
	if !ok {
		u.bad = sessions.ReservedKey + " is not an object"
		return u
	}
	if v, ok := meta["uid"]; ok {
		if u.id, ok = v.(string); !ok {
			u.bad = u.key + " is not a string"
		}
	}
	return u
}

// frameworkUserKey is the key a format's framework keeps the user id
// under, "" when the format keeps it under ReservedKey.
func frameworkUserKey(f sessions.Format) string {
	switch f {
	case sessions.FormatFlask, sessions.FormatJWT:
		return "_user_id"
	case sessions.FormatDjango:
		return "_auth_user_id"
	}
	return ""
}
