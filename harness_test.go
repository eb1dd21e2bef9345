package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The harness of the root package's tests. The tests of package
// sessions_test (the store-mode ones, which need internal/faultstore) use
// its exported names too.

// The keys of the tests (MinKeyLength bytes or more).
const (
	TestKey      = "ctxsession-test-key-0123456789abcdefghijklm"
	TestOldKey   = "ctxsession-test-old-key-0123456789abcdefghi"
	TestOtherKey = "ctxsession-test-other-key-0123456789abcdefg"
)

// TestStart is the time every test clock starts at.
var TestStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// A Clock is a settable clock for SessionConfig.Now, safe for concurrent
// use by the handler and the test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Logs is a slog.Handler that keeps every record with its attributes.
type Logs struct {
	mu   sync.Mutex
	recs []LogRecord
}

// A LogRecord is one record Logs kept.
type LogRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]any
}

func (l *Logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *Logs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *Logs) WithGroup(string) slog.Handler            { return l }

func (l *Logs) Handle(_ context.Context, r slog.Record) error {
	rec := LogRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.Any()
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	l.mu.Unlock()
	return nil
}

// Records returns the records kept so far.
func (l *Logs) Records() []LogRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}

// Rejections returns the reasons logged for rejected cookies.
func (l *Logs) Rejections() []error {
	var out []error
	for _, r := range l.Records() {
		if r.Msg == "sessions: cookie rejected" {
			err, _ := r.Attrs["reason"].(error)
			out = append(out, err)
		}
	}
	return out
}

// Warnings returns the errors logged at level Warn.
func (l *Logs) Warnings() []error {
	var out []error
	for _, r := range l.Records() {
		if err, ok := r.Attrs["err"].(error); ok && r.Level == slog.LevelWarn {
			out = append(out, err)
		}
	}
	return out
}

// Errors returns the errors logged at level Error.
func (l *Logs) Errors() []error {
	var out []error
	for _, r := range l.Records() {
		if err, ok := r.Attrs["err"].(error); ok && r.Level == slog.LevelError {
			out = append(out, err)
		}
	}
	return out
}

// An Env is a Middleware on a settable clock, with its log and the errors
// its error handler received kept for the test.
type Env struct {
	T     testing.TB
	M     *Middleware
	Clock *Clock
	Logs  *Logs
	Name  string // the session cookie's name
	// CheckSaved makes every Visit in store mode fail the test if the
	// response sets a session cookie whose id has no record in the store:
	// a Set-Cookie must point at saved data.
	CheckSaved bool

	mu   sync.Mutex
	errs []error
}

// NewEnv returns an Env for cfg, failing the test if New does. A zero
// SecretKey, Now or Logger in cfg is filled in (TestKey, a Clock at
// TestStart, the Logs); with no ErrorHandler, the errors are kept and
// answered with a 500 (unless the headers had gone out).
func NewEnv(t testing.TB, cfg SessionConfig) *Env {
	t.Helper()
	e := &Env{T: t, Clock: NewClock(TestStart), Logs: &Logs{}, Name: cfg.CookieName}
	if e.Name == "" {
		e.Name = DefaultCookieName
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = TestKey
	}
	if cfg.Now == nil {
		cfg.Now = e.Clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(e.Logs)
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			e.mu.Lock()
			e.errs = append(e.errs, err)
			e.mu.Unlock()
			if !errors.Is(err, ErrHeadersWritten) {
				http.Error(w, "session error", http.StatusInternalServerError)
			}
		}
	}
	m, err := New(cfg)
	require.NoError(t, err, "New")
	e.M = m
	return e
}

// Errors returns the errors the error handler received.
func (e *Env) Errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.errs)
}

// Serve serves h behind the middleware one GET request carrying the given
// Cookie header lines.
func (e *Env) Serve(h http.Handler, cookieLines ...string) *httptest.ResponseRecorder {
	return testkit.Get(e.M.Handler(h), cookieLines...)
}

// Do serves h behind the middleware one GET request carrying cookie as the
// session cookie's value (none when it is empty).
func (e *Env) Do(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
	if cookie == "" {
		return e.Serve(h)
	}
	return e.Serve(h, e.Name+"="+cookie)
}

// Browser returns a browser sending requests to h behind the middleware,
// in process.
func (e *Env) Browser(h http.Handler) *testkit.Browser {
	return testkit.NewBrowser(e.T, e.M.Handler(h))
}

// Server returns a browser sending requests to h behind the middleware
// over a real connection.
func (e *Env) Server(h http.Handler) *testkit.Browser {
	return testkit.NewServer(e.T, e.M.Handler(h))
}

// Mint returns a session cookie value holding values, signed at the
// clock's time.
func (e *Env) Mint(values map[string]any) string {
	e.T.Helper()
	v, err := e.M.Encode(values)
	require.NoError(e.T, err, "Encode")
	return v
}

// MintAt returns a session cookie value holding values, signed at the
// given time.
func (e *Env) MintAt(values map[string]any, at time.Time) string {
	e.T.Helper()
	v, err := EncodeAt(e.M, values, at)
	require.NoError(e.T, err, "Encode")
	return v
}

// EncodeAt is m.Encode on a clock stopped at now.
func EncodeAt(m *Middleware, values map[string]any, now time.Time) (string, error) {
	c := *m
	c.now = func() time.Time { return now }
	return c.Encode(values)
}

// Seen is what a handler saw of its session.
type Seen struct {
	Values map[string]any
	UserID string
	Err    error // GetSession's error
}

// A Visit is one request's outcome.
type Visit struct {
	Rec     *httptest.ResponseRecorder
	Seen    Seen   // the session the handler saw, before act
	Cookie  string // the session cookie the response sets; "" for none or a deletion
	Deleted bool   // the response deletes the session cookie
}

// Visit serves one request carrying cookie as the session cookie's value
// (none when it is empty); its handler runs act, when not nil, on the
// session, and writes nothing itself.
func (e *Env) Visit(cookie string, act func(r *http.Request, s *Session)) Visit {
	e.T.Helper()
	if cookie == "" {
		return e.VisitLines(act)
	}
	return e.VisitLines(act, e.Name+"="+cookie)
}

// MustVisit is Visit, failing the test unless GetSession succeeded and
// the response is a 200. It may be called from another goroutine.
func (e *Env) MustVisit(cookie string, act func(r *http.Request, s *Session)) Visit {
	e.T.Helper()
	v := e.Visit(cookie, act)
	assert.NoError(e.T, v.Seen.Err, "GetSession")
	assert.Equal(e.T, http.StatusOK, v.Rec.Code, "status (body %q)", v.Rec.Body)
	return v
}

// VisitLines is Visit with the given Cookie header lines.
func (e *Env) VisitLines(act func(r *http.Request, s *Session), cookieLines ...string) Visit {
	e.T.Helper()
	var v Visit
	v.Rec = e.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := GetSession(r.Context())
		v.Seen.Err = err
		if err != nil {
			return
		}
		v.Seen.Values = map[string]any{}
		for _, k := range s.Keys() {
			v.Seen.Values[k], _ = s.Get(k)
		}
		v.Seen.UserID = s.UserID()
		if act != nil {
			act(r, s)
		}
	}), cookieLines...)
	if c := testkit.SetCookie(e.T, v.Rec.Header(), e.Name); c != nil {
		v.Deleted = c.MaxAge < 0
		if !v.Deleted {
			v.Cookie = c.Value
		}
	}
	if st := e.M.cfg.Store; e.CheckSaved && st != nil && v.Cookie != "" {
		e.checkSaved(st, v.Cookie)
	}
	return v
}

// checkSaved fails the test unless st holds the record of the id in the
// store-mode cookie value c (its first dot-separated part; the store sees
// its SHA-256), looking behind a wrapper that has an Inner method.
func (e *Env) checkSaved(st Store, c string) {
	e.T.Helper()
	if w, ok := st.(interface{ Inner() Store }); ok {
		st = w.Inner()
	}
	id, _, _ := strings.Cut(c, ".")
	_, found, err := st.Find(context.Background(), storeKey(id))
	require.NoError(e.T, err)
	require.True(e.T, found, "Set-Cookie points at id %.8s... with no saved record", id)
}

// Load sends the Cookie header lines and returns the session the handler
// saw, failing the test unless GetSession and the response succeeded.
func (e *Env) Load(cookieLines ...string) Seen {
	e.T.Helper()
	v := e.VisitLines(nil, cookieLines...)
	require.NoError(e.T, v.Seen.Err, "GetSession")
	require.Equal(e.T, http.StatusOK, v.Rec.Code, "status")
	return v.Seen
}

// Issue runs a request carrying the Cookie header lines that stores values
// (and logs in userID when not empty), and returns the session cookie
// value the response sets, failing the test if it sets none.
func (e *Env) Issue(userID string, values map[string]any, cookieLines ...string) string {
	e.T.Helper()
	v := e.VisitLines(func(r *http.Request, s *Session) {
		if userID != "" {
			assert.NoError(e.T, Login(r.Context(), userID), "Login")
		}
		for _, k := range slices.Sorted(maps.Keys(values)) {
			s.Set(k, values[k])
		}
	}, cookieLines...)
	require.NoError(e.T, v.Seen.Err, "GetSession")
	require.NotEmpty(e.T, v.Cookie, "no session cookie set (status %d, headers %v)", v.Rec.Code, v.Rec.Header())
	return v.Cookie
}

// MustSession is GetSession, failing the test on error; it then returns an
// empty session, so that the handler can go on.
func MustSession(t testing.TB, r *http.Request) *Session {
	t.Helper()
	s, err := GetSession(r.Context())
	if !assert.NoError(t, err, "GetSession") {
		return &Session{scheme: defaultScheme{}, values: map[string]any{}}
	}
	return s
}

// Accessors for the tests of package sessions_test.

// CodecOf returns m's codec.
func CodecOf(m *Middleware) Codec { return m.codec }

// SaltedCodec returns the default format's codec for key and salt, as the
// middleware builds it for its own salts.
func SaltedCodec(key, salt string) Codec {
	return newItsdangerousCodec(newSigner([][]byte{[]byte(key)}, salt, digestSHA256, deriveHMAC))
}

// MaxCandidates is how many cookies of the session's name a request tries.
const MaxCandidates = maxCandidates

// CookieLine returns the Set-Cookie line m writes for value and maxAge, the
// one http.Cookie.String writes for them, and whether m cut its line into
// parts (the fast path).
func CookieLine(m *Middleware, value string, maxAge int) (got, want string, cut bool) {
	c := m.cookieTmpl
	c.Value, c.MaxAge = value, maxAge
	return m.sessionCookie(value, maxAge), c.String(), m.cookieLine.ok
}

// HasPrefixFold reports whether s starts with prefix, ignoring case.
func HasPrefixFold(s, prefix string) bool { return hasPrefixFold(s, prefix) }

// Test data.

// ReverseCodec is a user codec: it stores the payload in the clear,
// reversed byte by byte, with no integrity at all.
type ReverseCodec struct{}

func (ReverseCodec) Encode(p []byte, _ time.Time) (string, error) {
	out := slices.Clone(p)
	slices.Reverse(out)
	return "R" + base64.RawURLEncoding.EncodeToString(out), nil
}

func (ReverseCodec) Decode(v string, _ time.Time) (Decoded, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(v, "R"))
	if err != nil || !strings.HasPrefix(v, "R") {
		return Decoded{}, fmt.Errorf("%w: not a ReverseCodec value", ErrMalformed)
	}
	slices.Reverse(raw)
	return Decoded{Payload: raw}, nil
}

// Incompressible returns n characters of the base64url alphabet that zlib
// cannot shrink.
func Incompressible(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// CookieAlphabet is every character a cookie value of the default format
// may contain.
const CookieAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// ReplaceAt returns s with the byte at i replaced by c.
func ReplaceAt(s string, i int, c byte) string {
	return s[:i] + string(c) + s[i+1:]
}

// signerOf returns the signer of m's default-format codec, to sign crafted
// values with the real key.
func signerOf(t testing.TB, m *Middleware) *signer {
	t.Helper()
	c, ok := m.codec.(*itsdangerousCodec)
	require.True(t, ok, "codec is %T, want *itsdangerousCodec", m.codec)
	return c.s
}

// signPayload signs raw payload bytes (JSON or not) with e's codec and key
// at the clock's time.
func (e *Env) signPayload(payload string) string {
	e.T.Helper()
	v, err := e.M.codec.Encode([]byte(payload), e.Clock.Now())
	require.NoError(e.T, err, "Encode")
	return v
}

// ValidCookie returns a default-format cookie of e holding a session.
func (e *Env) ValidCookie() string {
	e.T.Helper()
	v := e.Mint(map[string]any{"role": "user", "cart": []any{"apple", "pear"}})
	_, err := e.M.Decode(context.Background(), v)
	require.NoError(e.T, err, "Decode of a fresh cookie")
	return v
}

// cookieParts splits a default-format value into payload, timestamp and
// signature.
func cookieParts(t testing.TB, v string) (payload, ts, sig string) {
	t.Helper()
	i := strings.LastIndexByte(v, '.')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(v[:i], '.')
	}
	require.True(t, i >= 0 && j >= 0, "value %q has no timestamp and signature", v)
	return v[:j], v[j+1 : i], v[i+1:]
}

// SeedCookies returns valid cookies of every format, signed at TestStart.
func SeedCookies(t testing.TB) []string {
	var out []string
	for _, f := range Formats() {
		e := NewEnv(t, SessionConfig{Format: f})
		for _, vals := range []map[string]any{
			{},
			{"user": "alice", "n": json.Number("12345678901234567890"), "list": []any{1, "two", nil, true}},
			{"nested": map[string]any{"a": map[string]any{"b": []any{}}}, "s": strings.Repeat("x", 200)},
		} {
			out = append(out, e.Mint(vals))
		}
	}
	return out
}

// Allocs is testing.AllocsPerRun, the least of three measurements: a
// goroutine another test left running can only add to a measurement.
func Allocs(f func()) float64 {
	least := testing.AllocsPerRun(50, f)
	for range 2 {
		least = min(least, testing.AllocsPerRun(50, f))
	}
	return least
}

// BytesPerRun returns the average heap bytes f allocates (the least of
// three measurements).
func BytesPerRun(f func()) uint64 {
	const runs = 20
	f()
	var least uint64
	for try := range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			f()
		}
		runtime.ReadMemStats(&after)
		if n := (after.TotalAlloc - before.TotalAlloc) / runs; try == 0 || n < least {
			least = n
		}
	}
	return least
}

// newTestSession returns an empty session of the default format, as the
// middleware creates it.
func newTestSession() *Session {
	return &Session{scheme: defaultScheme{}, values: map[string]any{}}
}

// pythonKey is the key of the vectors the Python libraries wrote (the
// interop tests' key), at Unix time pythonUnix.
const (
	pythonKey  = "interop-secret-key-0123456789abcdef"
	pythonUnix = 1700000000
)

// checkPythonVector checks that a Middleware of format f under pythonKey
// at pythonUnix decodes python, a value the Python library wrote, to want,
// and, when same, encodes want to the identical value.
func checkPythonVector(t *testing.T, f Format, python string, same bool, want map[string]any) {
	t.Helper()
	e := NewEnv(t, SessionConfig{Format: f, SecretKey: pythonKey})
	e.Clock.Set(time.Unix(pythonUnix, 0))
	got, err := e.M.Decode(context.Background(), python)
	require.NoError(t, err, "%v: Decode(Python's value)", f)
	assert.Equal(t, want, got, "%v: Decode(Python's value)", f)
	if same {
		v, err := e.M.Encode(want)
		require.NoError(t, err)
		assert.Equal(t, python, v, "%v: Encode, want Python's value", f)
	}
}

// Cookies as the Python side signs them: an independent implementation of
// each wire format, so that payloads encoding/json cannot write can be
// minted.

// jwtToken is the HS256 JWT of header and claims under key, as PyJWT
// signs it.
func jwtToken(t testing.TB, key, header, claims string) string {
	t.Helper()
	return jwtSign(key, b64url(header)+"."+b64url(claims))
}

// jwtSign appends the HS256 signature of signed (header.claims).
func jwtSign(key, signed string) string {
	return signed + "." + hmacB64(sha256.New, []byte(key), signed)
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hmacB64 is base64url(HMAC(key, msg)), unpadded.
func hmacB64(h func() hash.Hash, key []byte, msg string) string {
	mac := hmac.New(h, key)
	mac.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func digest(h func() hash.Hash, parts ...string) []byte {
	d := h()
	for _, p := range parts {
		d.Write([]byte(p))
	}
	return d.Sum(nil)
}

// pyMint signs payload (JSON text, used as it is) at now as the Python
// side of format f does with key.
func pyMint(t testing.TB, f Format, key, payload string, now time.Time) string {
	t.Helper()
	ts := b64url(string(binary.BigEndian.AppendUint32(nil, uint32(now.Unix()))))
	switch f {
	case FormatFlask: // URLSafeTimedSerializer, salt cookie-session, HMAC derivation, SHA-1
		mac := hmac.New(sha1.New, []byte(key))
		mac.Write([]byte("cookie-session"))
		signed := b64url(payload) + "." + ts
		return signed + "." + hmacB64(sha1.New, mac.Sum(nil), signed)
	case FormatStarlette: // TimestampSigner defaults
		signed := base64.StdEncoding.EncodeToString([]byte(payload)) + "." + ts
		return signed + "." + hmacB64(sha1.New, digest(sha1.New, "itsdangerous.Signer", "signer", key), signed)
	case FormatDjango: // django.core.signing, signed_cookies salt
		signed := b64url(payload) + ":" + base62(now.Unix())
		return signed + ":" + hmacB64(sha256.New, digest(sha256.New, "django.contrib.sessions.backends.signed_cookies", "signer", key), signed)
	case FormatJWT:
		return jwtToken(t, key, `{"alg":"HS256","typ":"JWT"}`, payload)
	}
	t.Fatalf("pyMint: format %v", f)
	return ""
}

func base62(n int64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b []byte
	for ; n > 0; n /= 62 {
		b = append([]byte{digits[n%62]}, b...)
	}
	return string(b)
}

// login is a handler that logs userID in, failing the test on an error.
func login(t testing.TB, userID string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, Login(r.Context(), userID), "Login")
	}
}
