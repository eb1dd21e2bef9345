package sessions

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file implements FormatFlask: Flask's SecureCookieSessionInterface
// (itsdangerous.URLSafeTimedSerializer, salt "cookie-session", HMAC key
// derivation, SHA-1) with Flask's TaggedJSONSerializer.
//
// Reading, the tags Flask writes are undone (flask/json/tag.py):
//
//	" t"  tuple          -> []any
//	" b"  bytes          -> []byte
//	" d"  datetime       -> time.Time (UTC)
//	" u"  UUID           -> string, canonical "8-4-4-4-12" lowercase
//	" m"  Markup         -> string (the HTML text)
//	" di" escaped dict   -> map[string]any with the escaped key restored
//
// An unknown tag is left as the one-key object it is, as Flask does.
// Writing (flaskScheme.appendValues, beside split), values are plain JSON: a Go value Flask would mistake for a tag
// (a one-key object whose key is one of the tags above) is escaped with " di",
// and everything else is written as encoding/json would, so a tuple read from
// Flask comes back to it as a list, bytes as a base64 string and a datetime
// as an RFC 3339 string.
//
// Metadata lives where Flask and Flask-Login keep it: the user id in
// "_user_id" (Flask-Login), its freshness in "_fresh", flashes in
// "_flashes" as [category, message] tuples (Flask's flash()), and the
// creation time, which Flask does not have, under ReservedKey.

// Reserved keys of FormatFlask.
const (
	flaskUserID  = "_user_id"
	flaskFresh   = "_fresh"
	flaskFlashes = "_flashes"
)

// flaskSalt is SecureCookieSessionInterface.salt.
const flaskSalt = "cookie-session"

// flaskTags are the keys of Flask's default JSON tags.
var flaskTags = map[string]bool{" di": true, " t": true, " b": true, " m": true, " u": true, " d": true}

// newFlaskCodec returns the codec for keys: keys[0] is Flask's SECRET_KEY,
// the rest its SECRET_KEY_FALLBACKS (Flask verifies the fallbacks too, in
// any order; it signs with SECRET_KEY only, as of Flask 3.1.1). The codec
// only signs: the tags are the scheme's (flaskScheme), so that a custom
// Codec with FormatFlask keeps them right.
func newFlaskCodec(keys [][]byte) *itsdangerousCodec {
	return newItsdangerousCodec(newSigner(keys, flaskSalt, digestSHA1, deriveHMAC))
}

// appendValues encodes the session's values, escaping those Flask would
// read as tags (the other half of split's untagging). Only an object whose
// first key starts with a space can be a tag, so the common case is one
// encoding.
func (flaskScheme) appendValues(dst []byte, values map[string]any) ([]byte, error) {
	n := len(dst)
	dst, err := appendObject(dst, values)
	if err != nil || !bytes.Contains(dst[n:], []byte(`{" `)) {
		return dst, err
	}
	// Escape a copy: the session's own maps stay as the handler set them.
	escaped, err := parseObject(dst[n:])
	if err != nil {
		return dst, err
	}
	for k, v := range escaped {
		escaped[k] = flaskEscape(v)
	}
	return appendObject(dst[:n], escaped)
}

// flaskEscape wraps every one-key object whose key is a tag in " di", as
// TaggedJSONSerializer.tag does, so that Flask reads it back as the dict it
// is. It changes maps and slices in place.
func flaskEscape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = flaskEscape(e)
		}
		if len(x) == 1 {
			for k, e := range x {
				if flaskTags[k] {
					return map[string]any{" di": map[string]any{k + "__": e}}
				}
			}
		}
	case []any:
		for i, e := range x {
			x[i] = flaskEscape(e)
		}
	}
	return v
}

// flaskUntag undoes Flask's tags in v (TaggedJSONSerializer._untag_scan:
// children first, then the object itself). It changes maps and slices in
// place.
func flaskUntag(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			u, err := flaskUntag(e)
			if err != nil {
				return nil, err
			}
			x[k] = u
		}
		if len(x) == 1 {
			for k, e := range x {
				if flaskTags[k] {
					return flaskUntagOne(k, e)
				}
			}
		}
	case []any:
		for i, e := range x {
			u, err := flaskUntag(e)
			if err != nil {
				return nil, err
			}
			x[i] = u
		}
	}
	return v, nil
}

func flaskUntagOne(tag string, v any) (any, error) {
	switch tag {
	case " t":
		if l, ok := v.([]any); ok {
			return l, nil
		}
	case " b":
		if s, ok := v.(string); ok {
			if b, err := base64.StdEncoding.Strict().DecodeString(s); err == nil {
				return b, nil
			}
		}
	case " m":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case " u":
		if s, ok := v.(string); ok {
			if u, ok := canonicalUUID(s); ok {
				return u, nil
			}
		}
	case " d":
		if s, ok := v.(string); ok {
			if t, err := http.ParseTime(s); err == nil {
				return t.UTC(), nil
			}
			if t, err := time.Parse(time.RFC1123Z, s); err == nil {
				return t.UTC(), nil
			}
		}
	case " di":
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for k, e := range m {
				if strings.HasSuffix(k, "__") {
					return map[string]any{k[:len(k)-2]: e}, nil
				}
			}
		}
	}
	return nil, malformed("bad Flask tag " + strconv.Quote(tag))
}

// canonicalUUID accepts the forms Python's uuid.UUID does (hex with or
// without hyphens, braces, "urn:uuid:") and returns the 8-4-4-4-12 form.
func canonicalUUID(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "urn:"), "uuid:")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	var b [16]byte
	if len(s) != 32 {
		return "", false
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return "", false
	}
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// flaskScheme maps the metadata to Flask's and Flask-Login's keys.
type flaskScheme struct{}

func (flaskScheme) reserved(key string) bool {
	switch key {
	case flaskUserID, flaskFresh, flaskFlashes, ReservedKey:
		return true
	}
	return false
}

func (flaskScheme) split(values map[string]any) (meta, error) {
	for k, v := range values {
		u, err := flaskUntag(v)
		if err != nil {
			return meta{}, err
		}
		values[k] = u
	}
	if len(values) == 1 {
		var tag string
		var v any
		for tag, v = range values {
		}
		if flaskTags[tag] {
			// The whole session is one tagged value: Flask accepts it only
			// when it is an escaped dict.
			u, err := flaskUntagOne(tag, v)
			if err != nil {
				return meta{}, err
			}
			um, ok := u.(map[string]any)
			if !ok {
				return meta{}, malformed("Flask session is not a dict")
			}
			clear(values)
			for k, e := range um {
				values[k] = e
			}
		}
	}
	var err error
	var m meta
	if v, ok := values[flaskUserID]; ok {
		switch id := v.(type) {
		case string:
			m.UserID = id
		case json.Number: // get_id() should return str, but an int works in Flask-Login
			m.UserID = string(id)
		default:
			return meta{}, malformed(flaskUserID + " is not a string")
		}
	}
	if v, ok := values[flaskFresh]; ok {
		if m.Fresh, ok = v.(bool); !ok {
			return meta{}, malformed(flaskFresh + " is not a bool")
		}
	}
	if v, ok := values[flaskFlashes]; ok {
		if m.Flashes, err = parseFlashes(v); err != nil {
			return meta{}, err
		}
	}
	if v, ok := values[ReservedKey]; ok {
		if err := readReserved(v, &m, false); err != nil {
			return meta{}, err
		}
	}
	for _, k := range [...]string{flaskUserID, flaskFresh, flaskFlashes, ReservedKey} {
		delete(values, k)
	}
	return m, nil
}

func (flaskScheme) appendMeta(dst []byte, m meta) []byte {
	dst = append(dst, `,"`+ReservedKey+`":{"c":`...)
	dst = strconv.AppendInt(dst, unixOrZero(m.Created), 10)
	dst = appendGeneration(dst, m)
	dst = appendLifeMeta(dst, m)
	dst = append(dst, '}')
	if len(m.Flashes) > 0 {
		dst = append(dst, `,"`+flaskFlashes+`":[`...)
		for i, f := range m.Flashes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{" t":[`...)
			dst = appendString(dst, f.Category)
			dst = append(dst, ',')
			dst = appendString(dst, f.Message)
			dst = append(dst, "]}"...)
		}
		dst = append(dst, ']')
	}
	if m.UserID != "" || m.Fresh {
		dst = append(dst, `,"`+flaskFresh+`":`...)
		dst = strconv.AppendBool(dst, m.Fresh)
	}
	if m.UserID != "" {
		dst = append(dst, `,"`+flaskUserID+`":`...)
		dst = appendString(dst, m.UserID)
	}
	return dst
}

// Flask's and Flask-Login's other keys that Login handles.
const (
	// flaskPermanent is Flask's session.permanent: the cookie has an expiry
	// only when it is true.
	flaskPermanent = "_permanent"
	// flaskIdentifier is Flask-Login's session protection identifier.
	flaskIdentifier = "_id"
)

// loginKeeps carries Flask's session.permanent across a login, as Flask
// keeps it across Flask-Login's login_user.
func (flaskScheme) loginKeeps() []string { return []string{flaskPermanent} }

// loginValues is what Flask-Login's login_user writes besides the user id
// and its freshness: the session protection identifier of the request, so
// that Flask-Login's "basic" and "strong" protection accept the session
// (and @fresh_login_required finds it fresh) on the next Flask request of
// the same client.
func (flaskScheme) loginValues(r *http.Request) map[string]any {
	return map[string]any{flaskIdentifier: flaskLoginIdentifier(r)}
}

// flaskLoginIdentifier is Flask-Login's _create_identifier() for r: the
// SHA-512 hex digest of f"{addr}|{ua}", where addr is the first entry of
// X-Forwarded-For, else the remote address, and ua the User-Agent, each as
// Python's repr of its UTF-8 bytes (b'127.0.0.1'), or None when absent.
// Header values are read as Werkzeug reads them, one byte per character
// (latin-1), and a header sent more than once as its values joined by ",".
func flaskLoginIdentifier(r *http.Request) string {
	addr := "None"
	if xff, ok := r.Header["X-Forwarded-For"]; ok {
		first, _, _ := strings.Cut(latin1ToUTF8(strings.Join(xff, ",")), ",")
		addr = pyBytesRepr(pyStrip(first))
	} else if r.RemoteAddr != "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		first, _, _ := strings.Cut(latin1ToUTF8(host), ",")
		addr = pyBytesRepr(pyStrip(first))
	}
	ua := "None"
	if v, ok := r.Header["User-Agent"]; ok {
		ua = pyBytesRepr(latin1ToUTF8(strings.Join(v, ",")))
	}
	sum := sha512.Sum512([]byte(addr + "|" + ua))
	return hex.EncodeToString(sum[:])
}

// latin1ToUTF8 reads s as latin-1 (one character per byte) and returns it
// in UTF-8, as str.encode("utf-8") gives for a header Werkzeug decoded.
func latin1ToUTF8(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			b := make([]byte, 0, len(s)+8)
			for j := 0; j < len(s); j++ {
				b = utf8.AppendRune(b, rune(s[j]))
			}
			return string(b)
		}
	}
	return s
}

// pyStrip is bytes.strip(): ASCII white space off both ends.
func pyStrip(s string) string { return strings.Trim(s, " \t\n\r\v\f") }

// pyBytesRepr is Python's repr() of a bytes value.
func pyBytesRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b := make([]byte, 0, len(s)+3)
	b = append(b, 'b', quote)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return string(append(b, quote))
}

const hexDigits = "0123456789abcdef"

// sessionMaxAge is the Max-Age of the session cookie for s, ending at exp:
// what RememberMe chose (r), else as cookieMaxAge, except that with FormatFlask the cookie is persistent
// only when Flask's session.permanent ("_permanent") is true, exactly as
// Flask sets an expiry only for a permanent session (in cookie mode, where
// the cookie is Flask's; in store mode it is only ours).
func (m *Middleware) sessionMaxAge(s *Session, r remember, exp, now time.Time) int {
	if r != rememberDefault { // RememberMe decided
		return m.cookieMaxAgeFor(r, exp, now)
	}
	if _, ok := m.scheme.(flaskScheme); ok && !m.backend.serverSide() {
		if p, _ := s.Get(flaskPermanent); p != true {
			return 0
		}
	}
	return m.cookieMaxAge(exp, now)
}
