package sessions

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// ReservedKey is the top-level JSON key under which the default format keeps
// the library's metadata: {"uid": user id, "c": creation time in Unix
// seconds, "f": [[category, message], ...], "g": the user's revocation
// generation at login}, and the lifecycle's members (see appendLifeMeta).
// It is not a session key.
const ReservedKey = "_ctxsession"

// A scheme maps the library's metadata to and from reserved keys of the
// JSON object. Each format has one; Python peers see the metadata where
// their own framework keeps it (Flask-Login's "_user_id", for instance).
type scheme interface {
	// split removes the reserved keys from values and returns the metadata
	// they hold. It also undoes any value tagging the format applies.
	split(values map[string]any) (meta, error)
	// appendValues appends values as a JSON object, applying any value
	// tagging the format needs (split undoes it).
	appendValues(dst []byte, values map[string]any) ([]byte, error)
	// appendMeta appends the reserved keys for m as members of a JSON
	// object ("key":value pairs, each preceded by a comma).
	appendMeta(dst []byte, m meta) []byte
	// reserved reports whether key is one of the scheme's reserved keys.
	reserved(key string) bool
}

// defaultScheme keeps all metadata under ReservedKey.
type defaultScheme struct{}

func (defaultScheme) reserved(key string) bool { return key == ReservedKey }

func (defaultScheme) appendValues(dst []byte, values map[string]any) ([]byte, error) {
	return appendObject(dst, values)
}

func (defaultScheme) split(values map[string]any) (meta, error) {
	raw, ok := values[ReservedKey]
	if !ok {
		return meta{}, nil
	}
	delete(values, ReservedKey)
	var m meta
	if err := readReserved(raw, &m, true); err != nil {
		return meta{}, err
	}
	return m, nil
}

// readReserved reads ReservedKey's object, raw, into m, in one pass over
// its members: the creation time ("c"), the revocation generation ("g"),
// the lifecycle's members (see appendLifeMeta) and, with withUser, the
// user ("uid"), freshness ("fresh") and flashes ("f"), which the formats
// with a place of their own for them do not read here. Unknown members are
// ignored.
func readReserved(raw any, m *meta, withUser bool) error {
	obj, ok := raw.(map[string]any)
	if !ok {
		return malformed(ReservedKey + " is not an object")
	}
	for k, v := range obj {
		var err error
		switch k {
		case "c":
			m.Created, err = unixTime(v)
		case "g":
			if m.Generation, ok = v.(string); !ok || m.Generation == "" {
				err = malformed(ReservedKey + ".g is not a generation")
			}
		case "rm":
			m.Remember, err = readRemember(v)
		case "s":
			m.Seen, err = unixTime(v)
		case "sid":
			m.SID, err = reservedString(k, v)
		case "ua":
			m.UserAgent, err = reservedString(k, v)
		case "uid":
			if withUser {
				m.UserID, err = reservedString(k, v)
			}
		case "fresh":
			if withUser {
				if m.Fresh, ok = v.(bool); !ok {
					err = malformed(ReservedKey + ".fresh is not a bool")
				}
			}
		case "f":
			if withUser {
				m.Flashes, err = parseFlashes(v)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reservedString reads the string member key of ReservedKey's object.
func reservedString(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", malformed(ReservedKey + "." + key + " is not a string")
	}
	return s, nil
}

// appendReservedObject appends ReservedKey's object for a format that keeps
// the user elsewhere (FormatJWT, FormatDjango): the creation time, the
// lifecycle's members, the flashes and the revocation generation.
func appendReservedObject(dst []byte, m meta) []byte {
	dst = append(dst, `,"`+ReservedKey+`":{"c":`...)
	dst = strconv.AppendInt(dst, unixOrZero(m.Created), 10)
	dst = appendLifeMeta(dst, m)
	if len(m.Flashes) > 0 {
		dst = append(dst, `,"f":`...)
		dst = appendFlashes(dst, m.Flashes)
	}
	dst = appendGeneration(dst, m)
	return append(dst, '}')
}

// appendGeneration appends the "g" member of a ReservedKey object, if any.
func appendGeneration(dst []byte, m meta) []byte {
	if m.Generation == "" {
		return dst
	}
	dst = append(dst, `,"g":`...)
	return appendString(dst, m.Generation)
}

func (defaultScheme) appendMeta(dst []byte, m meta) []byte {
	dst = append(dst, `,"`+ReservedKey+`":{"c":`...)
	dst = strconv.AppendInt(dst, unixOrZero(m.Created), 10)
	dst = appendLifeMeta(dst, m)
	if len(m.Flashes) > 0 {
		dst = append(dst, `,"f":`...)
		dst = appendFlashes(dst, m.Flashes)
	}
	if m.Fresh {
		dst = append(dst, `,"fresh":true`...)
	}
	dst = appendGeneration(dst, m)
	if m.UserID != "" {
		dst = append(dst, `,"uid":`...)
		dst = appendString(dst, m.UserID)
	}
	return append(dst, '}')
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// unixTime reads a JSON number of Unix seconds.
func unixTime(v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, malformed("timestamp is not a number")
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return time.Time{}, malformed("bad timestamp")
	}
	if i == 0 {
		return time.Time{}, nil
	}
	return time.Unix(i, 0), nil
}

// parseFlashes reads [[category, message], ...].
func parseFlashes(v any) ([]Flash, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, malformed("flashes are not a list")
	}
	out := make([]Flash, 0, len(list))
	for _, e := range list {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, malformed("flash is not a [category, message] pair")
		}
		c, ok1 := pair[0].(string)
		msg, ok2 := pair[1].(string)
		if !ok1 || !ok2 {
			return nil, malformed("flash is not a [category, message] pair")
		}
		out = append(out, Flash{Category: c, Message: msg})
	}
	return out, nil
}

func appendFlashes(dst []byte, fs []Flash) []byte {
	dst = append(dst, '[')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendString(dst, f.Category)
		dst = append(dst, ',')
		dst = appendString(dst, f.Message)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// encodePayload encodes a session's values and metadata as one JSON object.
func encodePayload(dst []byte, sc scheme, values map[string]any, m meta) ([]byte, error) {
	dst, err := sc.appendValues(dst, values)
	if err != nil {
		return dst, err
	}
	// Replace the closing brace by the metadata members.
	dst = dst[:len(dst)-1]
	n := len(dst)
	dst = sc.appendMeta(dst, m)
	if len(values) == 0 && len(dst) > n && dst[n] == ',' {
		// "{" followed directly by the metadata: drop its leading comma.
		copy(dst[n:], dst[n+1:])
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}'), nil
}

// decodePayload parses a payload and splits off the metadata.
func decodePayload(sc scheme, payload []byte) (map[string]any, meta, error) {
	return decodePayloadString(sc, string(payload))
}

// decodePayloadString is decodePayload for a payload held in a string,
// which the values share.
func decodePayloadString(sc scheme, payload string) (map[string]any, meta, error) {
	obj := reservedObjects.Get().(map[string]any)
	values, err := parseObjectInto(payload, ReservedKey, obj)
	var m meta
	if err == nil {
		m, err = sc.split(values)
	}
	if _, kept := values[ReservedKey]; !kept && len(obj) <= reservedObjectSize {
		clear(obj)
		reservedObjects.Put(obj)
	}
	if err != nil {
		return nil, meta{}, err
	}
	return values, m, nil
}

// reservedObjects recycles the maps that ReservedKey's object is decoded
// into: split reads the metadata out of it and drops it, so a read of a
// session does not pay for a map it throws away. A map that grew past
// reservedObjectSize members (a payload minted elsewhere) is left to the
// garbage collector.
var reservedObjects = sync.Pool{New: func() any { return make(map[string]any, reservedObjectSize) }}

const reservedObjectSize = 8
