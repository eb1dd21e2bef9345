package sessions

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shared helpers of the security tests (security_*_test.go, fuzz_test.go).
// Every name starts with "sec" so that other test files of the package can
// use short names freely.

const (
	secKey      = "security-test-key-0123456789abcdefghijklmnop"
	secOtherKey = "security-test-other-key-0123456789abcdefghij"
	secOldKey   = "security-test-old-key-0123456789abcdefghijkl"
)

// secT0 is the start of every settable clock.
var secT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// secNew returns New(cfg) with the test key (when cfg has none), a quiet
// logger, and the clock (when cfg has none), failing the test on error.
func secNew(t testing.TB, cfg SessionConfig) *Middleware {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = secKey
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = newTestClock(secT0).Now
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// secSeen is what secProbe saw of the request's session.
type secSeen struct {
	Values map[string]any
	UserID string
	Err    error
}

// secProbe returns a handler that records the session it is given, then
// runs act (if not nil) on it.
func secProbe(seen *secSeen, act func(w http.ResponseWriter, r *http.Request, s *Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := GetSession(r.Context())
		seen.Err = err
		if err != nil {
			return
		}
		seen.Values = map[string]any{}
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			seen.Values[k] = v
		}
		seen.UserID = s.UserID()
		if act != nil {
			act(w, r, s)
		}
	})
}

// secServe runs h behind m for one GET request carrying the given Cookie
// header lines and returns the recorded response.
func secServe(m *Middleware, h http.Handler, cookieLines ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://example.test/", nil)
	for _, line := range cookieLines {
		r.Header.Add("Cookie", line)
	}
	w := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(w, r)
	return w
}

// secLoad sends cookieLines to m and returns the session the handler saw.
func secLoad(t testing.TB, m *Middleware, cookieLines ...string) secSeen {
	t.Helper()
	var seen secSeen
	w := secServe(m, secProbe(&seen, nil), cookieLines...)
	if seen.Err != nil {
		t.Fatalf("GetSession: %v", seen.Err)
	}
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	return seen
}

// secSetCookie returns the value of the Set-Cookie for name in w, and
// whether there is one.
func secSetCookie(t testing.TB, w *httptest.ResponseRecorder, name string) (string, bool) {
	t.Helper()
	var found []string
	for _, line := range w.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			found = append(found, c.Value)
		}
	}
	if len(found) > 1 {
		t.Fatalf("%d Set-Cookie lines for %q, want at most one", len(found), name)
	}
	if len(found) == 0 {
		return "", false
	}
	return found[0], true
}

// secIssue runs a request that stores values (and logs in userID when not
// empty) and returns the session cookie value the response sets.
func secIssue(t testing.TB, m *Middleware, userID string, values map[string]any, cookieLines ...string) string {
	t.Helper()
	var seen secSeen
	w := secServe(m, secProbe(&seen, func(w http.ResponseWriter, r *http.Request, s *Session) {
		if userID != "" {
			if err := Login(r.Context(), userID); err != nil {
				t.Errorf("Login: %v", err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(values)) {
			s.Set(k, values[k])
		}
	}), cookieLines...)
	if seen.Err != nil {
		t.Fatalf("GetSession: %v", seen.Err)
	}
	v, ok := secSetCookie(t, w, m.cfg.CookieName)
	if !ok || v == "" {
		t.Fatalf("no session cookie set (status %d, headers %v)", w.Code, w.Header())
	}
	return v
}

// secCodecSigner returns the signer of m's default-format codec, to sign
// crafted payloads with the real key.
func secCodecSigner(t testing.TB, m *Middleware) *signer {
	t.Helper()
	c, ok := m.codec.(*itsdangerousCodec)
	if !ok {
		t.Fatalf("codec is %T, want *itsdangerousCodec", m.codec)
	}
	return c.s
}

// secSignPayload signs raw payload bytes (JSON or not) with m's codec and
// the real key, at m's current time.
func secSignPayload(t testing.TB, m *Middleware, payload string) string {
	t.Helper()
	v, err := m.codec.Encode([]byte(payload), m.now())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return v
}

// secMapStore is a minimal in-memory Store for the unit tests of the
// middleware's store mode (the store tests proper, against memstore and
// filestore, are in security_store_test.go).
type secMapStore struct {
	mu   sync.Mutex
	recs map[string]Record
}

func newSecMapStore() *secMapStore { return &secMapStore{recs: map[string]Record{}} }

func (s *secMapStore) Find(_ context.Context, id string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id]
	if !ok {
		return nil, false, nil
	}
	return slices.Clone(r.Data), true, nil
}

func (s *secMapStore) Create(_ context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.ID]; ok {
		return ErrExists
	}
	s.recs[rec.ID] = rec
	return nil
}

func (s *secMapStore) Update(_ context.Context, rec Record) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.ID]; !ok {
		return false, nil
	}
	s.recs[rec.ID] = rec
	return true, nil
}

func (s *secMapStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
	return nil
}

func (s *secMapStore) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.recs))
}

// secReplaceAt returns s with the byte at i replaced by c.
func secReplaceAt(s string, i int, c byte) string {
	return s[:i] + string(c) + s[i+1:]
}

// secAlphabet is every character a cookie value of the default format may
// contain.
const secAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// secParts splits a default-format value into payload, timestamp and
// signature.
func secParts(t testing.TB, v string) (payload, ts, sig string) {
	t.Helper()
	i := strings.LastIndexByte(v, '.')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(v[:i], '.')
	}
	if i < 0 || j < 0 {
		t.Fatalf("value %q has no timestamp and signature", v)
	}
	return v[:j], v[j+1 : i], v[i+1:]
}
