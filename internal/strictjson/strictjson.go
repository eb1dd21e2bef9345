// Package strictjson decodes and encodes the JSON of session payloads.
//
// A session payload is attacker-controlled input behind a MAC that other
// systems also produce, so two parsers must never disagree about it, and
// what a peer wrote must come back to it unchanged. The decoder enforces
// the defaults of encoding/json/v2 where encoding/json is lenient:
//
//   - duplicate object member names are rejected (encoding/json keeps the
//     last one);
//   - invalid UTF-8 in the input is rejected (encoding/json replaces it
//     with U+FFFD);
//
// and reads what Python's json module writes, which encoding/json refuses
// or changes:
//
//   - the tokens NaN, Infinity and -Infinity (Python's json writes them
//     for float('nan') and the infinities) are numbers:
//     json.Number("NaN"), json.Number("Infinity") and
//     json.Number("-Infinity"), which json.Number.Float64 turns into the
//     float;
//   - a \u escape of a lone surrogate (Python writes "\ud800" for the str
//     '\ud800') becomes the surrogate's three-byte generalized UTF-8
//     (WTF-8) form in the Go string (0xED, then 0xA0-0xBF, then
//     0x80-0xBF), where encoding/json would substitute U+FFFD; the encoder
//     writes it back as the same escape;
//   - numbers stay exact as json.Number, never float64, so integers beyond
//     64 bits keep every digit;
//   - nesting is bounded by MaxDepth, which no payload of the size the
//     session formats inflate (64 KiB at most) can reach: the size cap is
//     the bound, not a depth far below Python's.
//
// The input must be exactly one JSON object, with optional white space
// around it. Every error DecodeObject returns matches ErrSyntax and is a
// *SyntaxError that says what is wrong and at which byte offset. The
// decoder allocates only for the values it returns.
//
// The encoder (AppendValue) writes compact JSON with object members sorted
// by name, so equal values encode to equal bytes; a decoded value written
// back unchanged gives the bytes it was read from whenever those were
// compact and sorted, with \u escapes only where the encoder writes them.
// It writes the types the decoder returns, and the common Go scalars,
// itself, and hands any other type to encoding/json.Marshal. The encoder
// and the decoder agree: the encoder writes nothing the decoder refuses or
// reads back as another value.
//
// This package is to be replaced by encoding/json/v2 (with options for
// the Python tokens and json.Number) once v2 builds without
// GOEXPERIMENT=jsonv2.
package strictjson

import (
	"errors"
	"strconv"
)

// MaxDepth is the deepest nesting of objects and arrays DecodeObject
// accepts and AppendValue writes; the outermost object counts as one
// level. Every level takes a byte, so no payload of the 64 KiB the session
// formats inflate at most reaches it: the size cap is the real bound. The
// encoder needs it to stop on a value that contains itself.
const MaxDepth = 1 << 16

// ErrSyntax is matched (errors.Is) by every error DecodeObject returns.
var ErrSyntax = errors.New("strictjson: invalid JSON")

// A SyntaxError reports why and where DecodeObject rejected its input.
type SyntaxError struct {
	Reason string // what is wrong, e.g. "duplicate key in JSON object"
	Offset int    // byte offset in the input where the problem was found
}

func (e *SyntaxError) Error() string {
	return "strictjson: " + e.Reason + " at byte offset " + strconv.Itoa(e.Offset)
}

// Is reports whether target is ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }
