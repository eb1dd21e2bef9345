package sessions

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// maxPayload caps the decompressed size of a payload, so a small compressed
// cookie cannot expand into a large allocation.
const maxPayload = 64 << 10

// itsdangerousCodec is itsdangerous.URLSafeTimedSerializer with a JSON
// object payload: base64url(payload or "." + zlib(payload)) . ts . sig.
type itsdangerousCodec struct {
	s *signer
}

func newItsdangerousCodec(s *signer) *itsdangerousCodec { return &itsdangerousCodec{s: s} }

// deflater is a pooled zlib writer and its output buffer. BestSpeed: the
// compression attempt runs on every save of a payload over 10 bytes, and
// resetting a level-6 writer clears 640 KiB of hash tables (tens of
// microseconds) to save a few bytes on session-sized payloads.
type deflater struct {
	zw  *zlib.Writer
	buf bytes.Buffer
}

var deflaters = sync.Pool{New: func() any {
	d := new(deflater)
	d.zw, _ = zlib.NewWriterLevel(&d.buf, zlib.BestSpeed)
	return d
}}

func (c *itsdangerousCodec) Encode(payload []byte, now time.Time) (string, error) {
	body := payload
	compressed := false
	var d *deflater
	// zlib output is at least 9 bytes, so a shorter payload never gains; and
	// the attempt is skipped when the estimate says it cannot gain.
	if len(payload) > 10 && !zlibWontShrink(payload) {
		d = deflaters.Get().(*deflater)
		d.buf.Reset()
		d.zw.Reset(&d.buf)
		d.zw.Write(payload)
		d.zw.Close()
		if d.buf.Len() < len(payload)-1 {
			body, compressed = d.buf.Bytes(), true
		}
	}
	out := make([]byte, 0, 1+b64.EncodedLen(len(body))+c.s.signedExtra())
	if compressed {
		out = append(out, '.')
	}
	out = b64.AppendEncode(out, body)
	if d != nil && d.buf.Cap() <= maxPayload {
		deflaters.Put(d)
	}
	return string(c.s.appendSigned(out, now)), nil
}

func (c *itsdangerousCodec) Decode(value string, _ time.Time) (Decoded, error) {
	v, issued, stale, err := c.s.unsign(value)
	if err != nil {
		return Decoded{}, err
	}
	payload, err := decodeSerialized(v)
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Payload: payload, Issued: issued, Stale: stale}, nil
}

// decodeSerialized undoes URLSafeSerializer.dump_payload: strict base64url,
// and zlib when the value starts with ".", capped at maxPayload.
func decodeSerialized(v string) ([]byte, error) {
	compressed := strings.HasPrefix(v, ".")
	if compressed {
		v = v[1:]
	}
	raw, err := b64.DecodeString(v)
	if err != nil {
		return nil, malformed("bad base64 payload")
	}
	if !compressed {
		return raw, nil
	}
	return inflate(raw)
}

// zlibWontShrink reports whether compressing p with the deflater above
// would give at least len(p)-1 bytes, so that Encode would not use it;
// false means "try". It answers for 16 < len(p) < 128 only: there
// compress/flate at BestSpeed writes one block of Huffman-coded literals
// (or a stored block) and an empty final stored block, whose size is
// computed here from an optimal Huffman code, as flate sizes the block.
// Optimal codes can differ in their code-length table: over 400,000
// random payloads flate's output came within 4 bytes below the estimate,
// so the estimate must exceed the limit by a margin of 6. (Were it ever
// wrong, a payload would go uncompressed that zlib could have shortened by
// a byte or two; the cookie stays valid.) TestZlibWontShrink checks the
// estimate against compress/zlib. Computing it costs a fraction of
// compressing.
func zlibWontShrink(p []byte) bool {
	n := len(p)
	if n <= 16 || n >= 128 {
		return false
	}
	const margin = 6 // bytes
	var freq [256]int32
	var seen [4]uint64
	for _, c := range p {
		freq[c]++
		seen[c>>6] |= 1 << (c & 63)
	}
	// The used bytes in ascending order, then the end-of-block marker.
	var syms [129]uint16
	var weights [129]int32
	k := 0
	for i, word := range seen {
		for word != 0 {
			c := i*64 + bits.TrailingZeros64(word)
			word &= word - 1
			syms[k], weights[k] = uint16(c), freq[c]
			k++
		}
	}
	syms[k], weights[k] = 256, 1
	k++
	var lens [129]uint8
	if !huffmanLengths(weights[:k], lens[:k], 15) {
		return false
	}
	size := 1 // the one offset code, used once
	for i, w := range weights[:k] {
		size += int(w) * int(lens[i])
	}

	// The code lengths of symbols 0..257 (257: the offset code, length 1),
	// run-length coded as deflate does.
	var cg codegenCounter
	prev := -1
	for i, sym := range syms[:k] {
		if gap := int(sym) - prev - 1; gap > 0 {
			cg.add(0, gap)
		}
		cg.add(lens[i], 1)
		prev = int(sym)
	}
	cg.add(1, 1)
	cg.flush()
	var cgLens [19]uint8
	if !huffmanLengths(cg.freq[:], cgLens[:], 7) {
		return false
	}
	numCodegens := 19
	for numCodegens > 4 && cg.freq[codegenOrder[numCodegens-1]] == 0 {
		numCodegens--
	}
	size += 3 + 5 + 5 + 4 + 3*numCodegens + int(cg.freq[16])*2 + int(cg.freq[17])*3 + int(cg.freq[18])*7
	for i, f := range cg.freq {
		size += int(f) * int(cgLens[i])
	}
	// zlib header, the block and the final stored block's 3 bits, byte
	// alignment, that block's 4 length bytes, and the checksum.
	total := 2 + (size+3+7)/8 + 4 + 4
	return total >= n-1+margin
}

// codegenCounter counts the symbols of deflate's run-length coding of a
// sequence of code lengths (compress/flate's generateCodegen), fed as runs.
type codegenCounter struct {
	freq  [19]int32
	size  uint8
	count int
}

func (c *codegenCounter) add(size uint8, count int) {
	if c.count > 0 && size == c.size {
		c.count += count
		return
	}
	c.flush()
	c.size, c.count = size, count
}

func (c *codegenCounter) flush() {
	size, count := c.size, c.count
	if count == 0 {
		return
	}
	if size != 0 {
		c.freq[size]++
		count--
		for count >= 3 {
			c.freq[16]++
			count -= min(count, 6)
		}
	} else {
		for count >= 11 {
			c.freq[18]++
			count -= min(count, 138)
		}
		if count >= 3 {
			c.freq[17]++
			count = 0
		}
	}
	c.freq[size] += int32(count)
	c.count = 0
}

var codegenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// huffmanLengths sets lens[i] to the code length of symbol i in an optimal
// prefix code for freq (0 for unused symbols). It reports false when a
// length would exceed maxBits, or the input is beyond what zlibWontShrink
// needs (more than 129 symbols used, a frequency over 258).
func huffmanLengths(freq []int32, lens []uint8, maxBits int) bool {
	const maxSyms, maxFreq = 129, 258
	// Counting sort of the used symbols by frequency.
	var count [maxFreq + 2]uint8
	k, top := 0, int32(0)
	for i, f := range freq {
		lens[i] = 0
		if f > 0 {
			if f > maxFreq || k == maxSyms {
				return false
			}
			count[f+1]++
			k++
			top = max(top, f)
		}
	}
	if k <= 2 {
		for i, f := range freq {
			if f > 0 {
				lens[i] = 1
			}
		}
		return true
	}
	for i := 1; i <= int(top); i++ {
		count[i] += count[i-1]
	}
	var a [maxSyms]int32 // weights, ascending; then parents, then depths
	var sym [maxSyms]uint8
	for i, f := range freq {
		if f > 0 {
			a[count[f]], sym[count[f]] = f, uint8(i)
			count[f]++
		}
	}
	moffatKatajainen(a[:k])
	for i := range k {
		if int(a[i]) > maxBits {
			return false
		}
		lens[sym[i]] = uint8(a[i])
	}
	return true
}

// moffatKatajainen replaces the ascending weights in a (at least two) by
// the code lengths of an optimal prefix code for them, in place (Moffat and
// Katajainen, "In-place calculation of minimum-redundancy codes", 1995).
func moffatKatajainen(a []int32) {
	n := len(a)
	// Build the tree: a[t] becomes internal node t's weight, and a child's
	// slot its parent's index.
	leaf, root := 0, 0
	for next := 0; next < n-1; next++ {
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] = a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Depths of the internal nodes, from the root down.
	a[n-2] = 0
	for t := n - 3; t >= 0; t-- {
		a[t] = a[a[t]] + 1
	}
	// Depths of the leaves: each level's free slots hold leaves, heaviest
	// (last) first.
	avail, used, depth := 1, 0, int32(0)
	t, x := n-2, n-1
	for avail > 0 {
		for t >= 0 && a[t] == depth {
			used++
			t--
		}
		for avail > used {
			a[x] = depth
			x--
			avail--
		}
		avail, depth, used = 2*used, depth+1, 0
	}
}

// inflater is a pooled zlib reader and its source.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser // nil until first used
}

var inflaters sync.Pool

// inflate decompresses zlib data, refusing output over maxPayload.
func inflate(raw []byte) ([]byte, error) {
	f, _ := inflaters.Get().(*inflater)
	if f == nil {
		f = new(inflater)
	}
	f.src.Reset(raw)
	var err error
	if f.zr == nil {
		f.zr, err = zlib.NewReader(&f.src)
	} else {
		err = f.zr.(zlib.Resetter).Reset(&f.src, nil)
	}
	if err != nil {
		return nil, malformed("bad zlib payload")
	}
	out, err := io.ReadAll(io.LimitReader(f.zr, maxPayload+1))
	f.zr.Close()
	f.src.Reset(nil)
	inflaters.Put(f)
	if err != nil {
		return nil, malformed("bad zlib payload")
	}
	if len(out) > maxPayload {
		return nil, malformed("decompressed payload too large")
	}
	return out, nil
}
