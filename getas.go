package sessions

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// GetAs returns the value under key converted to T, and whether that worked.
// It accepts the value as stored, or as read back from JSON: GetAs[int]
// reads a json.Number (or float64) that holds an integer in int's range,
// GetAs[float64] any number, and GetAs[[]string], GetAs[MyStruct] and the
// like a value that JSON can turn into T. A missing key, or a value that
// does not fit T exactly, gives the zero T and false; a null value fits
// (as nil) only pointer, interface, map and slice types.
//
// A converted map, slice or pointer replaces the decoded value in the
// session for the rest of the request: later Get and GetAs calls return the
// same object, and changing it in place is saved, as for a value from Get
// (GetAs[*Prefs] then p.Theme = "dark" is saved). A struct value is a copy:
// use a pointer type to edit one. On the next request the value is JSON
// again (Get returns map[string]any for a struct), so what survives a round
// trip is what encoding/json writes and reads: exported fields, numbers
// exact through GetAs, times as RFC 3339 strings.
func GetAs[T any](s *Session, key string) (T, bool) {
	var zero T
	v, gen, ok := s.getRaw(key)
	if !ok {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	if n, ok := v.(json.Number); ok {
		// The common case, an integer read back from a cookie, without
		// reflection. Anything ParseInt refuses takes the general path.
		switch any((*T)(nil)).(type) {
		case *int:
			if i, err := strconv.ParseInt(string(n), 10, 0); err == nil {
				return any(int(i)).(T), true
			}
		case *int64:
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return any(i).(T), true
			}
		}
	}
	var out T
	if convertNumber(v, reflect.ValueOf(&out).Elem()) {
		return out, true
	}
	if v == nil {
		// JSON null fits exactly the types that have a nil.
		switch reflect.TypeFor[T]().Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			return zero, true
		}
		return zero, false
	}
	b, err := appendJSON(nil, v)
	if err != nil {
		return zero, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return zero, false
	}
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer:
		s.adopt(key, gen, out)
	}
	return out, true
}

// convertNumber stores a numeric v into dst, a numeric kind, if it fits
// exactly. It reports false when either side is not a number.
func convertNumber(v any, dst reflect.Value) bool {
	var text string
	switch n := v.(type) {
	case json.Number:
		text = string(n)
	case float64:
		text = strconv.FormatFloat(n, 'g', -1, 64)
	case float32:
		text = strconv.FormatFloat(float64(n), 'g', -1, 32)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		text = fmtInt(n)
	default:
		return false
	}
	switch dst.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(text, 10, dst.Type().Bits())
		if err != nil {
			f, ferr := strconv.ParseFloat(text, 64)
			if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return false
			}
			i = int64(f)
			if dst.OverflowInt(i) {
				return false
			}
		}
		dst.SetInt(i)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := strconv.ParseUint(text, 10, dst.Type().Bits())
		if err != nil {
			f, ferr := strconv.ParseFloat(text, 64)
			if ferr != nil || f != math.Trunc(f) || f < 0 || f >= math.MaxUint64 {
				return false
			}
			u = uint64(f)
			if dst.OverflowUint(u) {
				return false
			}
		}
		dst.SetUint(u)
		return true
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(text, dst.Type().Bits())
		if err != nil {
			return false
		}
		dst.SetFloat(f)
		return true
	}
	return false
}

func fmtInt(n any) string {
	rv := reflect.ValueOf(n)
	if rv.CanInt() {
		return strconv.FormatInt(rv.Int(), 10)
	}
	return strconv.FormatUint(rv.Uint(), 10)
}
