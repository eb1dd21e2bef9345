package sessions_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hKey is a key that passes every rule of New.
const hKey = "kL3v9Qx7Rt2Wm8Zp4Hs6Jd1Fg5Yb0NcU"

// hT0 is the time the tests' clocks start at.
var hT0 = time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)

func hNew(t *testing.T, cfg sessions.SessionConfig) *sessions.Middleware {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = hKey
	}
	m, err := sessions.New(cfg)
	require.NoError(t, err)
	return m
}

// hServe runs one request through m and h, with the given cookie values
// of the session cookie "session", and returns the recorded response.
func hServe(t *testing.T, m *sessions.Middleware, h http.HandlerFunc, cookies ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: "session", Value: c})
	}
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, req)
	return rec
}

// hCookie returns the value of the session cookie a response sets, and its
// Max-Age.
func hCookie(t *testing.T, rec *httptest.ResponseRecorder) (string, int) {
	t.Helper()
	for _, line := range rec.Result().Header["Set-Cookie"] {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, "Set-Cookie %q", line)
		if c.Name == "session" {
			return c.Value, c.MaxAge
		}
	}
	require.Fail(t, "no session cookie", "headers %v", rec.Result().Header)
	return "", 0
}

func hLogin(user string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(r.Context(), user); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

// hWhoAmI writes the session's user id ("" for anonymous).
func hWhoAmI(w http.ResponseWriter, r *http.Request) {
	id, _ := sessions.UserID(r.Context())
	w.Write([]byte(id))
}

// countingStore counts Find calls and can fail them, or record writes.
type countingStore struct {
	sessions.Store
	mu      sync.Mutex
	finds   int
	findErr error
	ttls    []time.Duration
	created []string
}

func (s *countingStore) createdIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.created...)
}

func (s *countingStore) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	s.mu.Lock()
	s.finds++
	err := s.findErr
	s.mu.Unlock()
	if err != nil {
		return sessions.Record{}, false, err
	}
	return s.Store.Find(ctx, id)
}

func (s *countingStore) Create(ctx context.Context, rec sessions.Record) error {
	s.mu.Lock()
	s.ttls = append(s.ttls, rec.TTL)
	s.created = append(s.created, rec.ID)
	s.mu.Unlock()
	return s.Store.Create(ctx, rec)
}

func (s *countingStore) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	s.mu.Lock()
	s.ttls = append(s.ttls, rec.TTL)
	s.mu.Unlock()
	return s.Store.Update(ctx, rec)
}

func (s *countingStore) findCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finds
}

func newCountingStore() *countingStore {
	return &countingStore{Store: memstore.New(memstore.WithCleanupInterval(0))}
}

// ---- Revocation without clocks ----

// TestSecurityRevocationIgnoresClocks: a login on a server whose clock
// runs 30 s ahead (within ClockSkew), revoked by DestroyUser on a server
// with the right time, is revoked on both.
func TestSecurityRevocationIgnoresClocks(t *testing.T) {
	rs := newCountingStore()
	ahead := hNew(t, sessions.SessionConfig{RevocationStore: rs, Now: func() time.Time { return hT0.Add(30 * time.Second) }})
	right := hNew(t, sessions.SessionConfig{RevocationStore: rs, Now: func() time.Time { return hT0 }})
	v, _ := hCookie(t, hServe(t, ahead, hLogin("alice")))
	require.Equal(t, "alice", hServe(t, right, hWhoAmI, v).Body.String())
	require.NoError(t, right.DestroyUser(context.Background(), "alice"))
	assert.Equal(t, "", hServe(t, right, hWhoAmI, v).Body.String(), "revoked cookie accepted by the server that revoked it")
	assert.Equal(t, "", hServe(t, ahead, hWhoAmI, v).Body.String(), "revoked cookie accepted by the server that issued it")
}

// TestSecurityRevocationGenerations: a login after DestroyUser survives it
// and the next DestroyUser revokes it; a record that expired and was
// created anew by a later DestroyUser still revokes every cookie issued
// before; other users are not affected.
func TestSecurityRevocationGenerations(t *testing.T) {
	rs := newCountingStore()
	ctx := context.Background()
	m := hNew(t, sessions.SessionConfig{RevocationStore: rs})
	bob, _ := hCookie(t, hServe(t, m, hLogin("bob")))
	first, _ := hCookie(t, hServe(t, m, hLogin("alice")))
	require.NoError(t, m.DestroyUser(ctx, "alice"))
	second, _ := hCookie(t, hServe(t, m, hLogin("alice")))
	assert.Equal(t, "", hServe(t, m, hWhoAmI, first).Body.String())
	assert.Equal(t, "alice", hServe(t, m, hWhoAmI, second).Body.String(), "a login after DestroyUser")
	require.NoError(t, m.DestroyUser(ctx, "alice"))
	assert.Equal(t, "", hServe(t, m, hWhoAmI, second).Body.String(), "second DestroyUser")
	assert.Equal(t, "bob", hServe(t, m, hWhoAmI, bob).Body.String(), "another user")

	// The record expires (here: is deleted), a login is stamped with the
	// generation it had, and a later DestroyUser creates a new record.
	third, _ := hCookie(t, hServe(t, m, hLogin("alice")))
	ms := rs.Store.(*memstore.Store)
	for _, id := range rs.createdIDs() {
		require.NoError(t, ms.Delete(ctx, id))
	}
	assert.Equal(t, "alice", hServe(t, m, hWhoAmI, third).Body.String(), "no record: nothing revoked")
	require.NoError(t, m.DestroyUser(ctx, "alice"))
	assert.Equal(t, "", hServe(t, m, hWhoAmI, third).Body.String(), "a new record revokes cookies of the old one")
}

// TestSecurityRevocationOneLookupPerRequest: a logged-in request costs one
// RevocationStore lookup, an anonymous one none, a Login of another user
// one, and a Login that renews the session's own user none.
func TestSecurityRevocationOneLookupPerRequest(t *testing.T) {
	rs := newCountingStore()
	m := hNew(t, sessions.SessionConfig{RevocationStore: rs})
	anon, _ := hCookie(t, hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("k", "v")
	}))
	assert.Equal(t, 0, rs.findCount(), "anonymous request")
	v, _ := hCookie(t, hServe(t, m, hLogin("alice"), anon))
	assert.Equal(t, 1, rs.findCount(), "Login of a new user")
	hServe(t, m, hWhoAmI, v)
	assert.Equal(t, 2, rs.findCount(), "logged-in request")
	hServe(t, m, hLogin("alice"), v)
	assert.Equal(t, 3, rs.findCount(), "Login renewing the same user: the load's lookup only")
}

// TestSecurityRevocationStoreFailures: a lookup failure at Login or on a
// logged-in request is a store error (500), never an anonymous session.
func TestSecurityRevocationStoreFailures(t *testing.T) {
	rs := newCountingStore()
	m := hNew(t, sessions.SessionConfig{RevocationStore: rs, Logger: discardLogger()})
	v, _ := hCookie(t, hServe(t, m, hLogin("alice")))
	rs.findErr = errors.New("disk on fire")
	rec := hServe(t, m, hLogin("bob"))
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "Login")
	assert.Empty(t, rec.Result().Header["Set-Cookie"])
	rec = hServe(t, m, hWhoAmI, v)
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "logged-in request")
	err := m.DestroyUser(context.Background(), "alice")
	require.ErrorIs(t, err, sessions.ErrStore)
}

// TestSecurityRevocationEveryFormat: every format carries the generation
// Login stamps, so DestroyUser revokes in each of them.
func TestSecurityRevocationEveryFormat(t *testing.T) {
	for _, f := range sessions.Formats() {
		rs := newCountingStore()
		m := hNew(t, sessions.SessionConfig{RevocationStore: rs, Format: f})
		ctx := context.Background()
		require.NoError(t, m.DestroyUser(ctx, "alice"), "%v", f)
		v, _ := hCookie(t, hServe(t, m, hLogin("alice")))
		require.Equal(t, "alice", hServe(t, m, hWhoAmI, v).Body.String(), "%v: login after DestroyUser", f)
		require.NoError(t, m.DestroyUser(ctx, "alice"))
		assert.Equal(t, "", hServe(t, m, hWhoAmI, v).Body.String(), "%v: revoked", f)
	}
}

// TestSecurityRevocationCorruptRecord: a RevocationStore record that is
// not a generation is a store error for the requests of that user and for
// DestroyUser, never an accepted cookie. A record of version 0.1.0 (a
// revocation time in Unix nanoseconds) revokes every cookie logged in
// before, and later logins and revocations work on from it.
func TestSecurityRevocationCorruptRecord(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		data     string
		corrupt  bool
		survives bool
	}{
		{"garbage", true, false},
		{"abc.-1", true, false},
		{".3", true, false},
		{"1780000000000000000", false, false},
	} {
		rs := newCountingStore()
		m := hNew(t, sessions.SessionConfig{RevocationStore: rs, Logger: discardLogger()})
		v, _ := hCookie(t, hServe(t, m, hLogin("alice")))
		require.NoError(t, m.DestroyUser(ctx, "alice"))
		id := rs.createdIDs()[0]
		cur, found, err := rs.Find(ctx, id)
		require.True(t, found)
		require.NoError(t, err)
		cur.Data, cur.TTL = []byte(tt.data), time.Hour
		_, err = rs.Store.Update(ctx, cur)
		require.NoError(t, err)
		rec := hServe(t, m, hWhoAmI, v)
		if tt.corrupt {
			assert.Equal(t, http.StatusInternalServerError, rec.Code, "%q", tt.data)
			require.ErrorIs(t, m.DestroyUser(ctx, "alice"), sessions.ErrStore, "%q", tt.data)
			continue
		}
		assert.Equal(t, "", rec.Body.String(), "%q: cookie from before", tt.data)
		after, _ := hCookie(t, hServe(t, m, hLogin("alice")))
		assert.Equal(t, "alice", hServe(t, m, hWhoAmI, after).Body.String(), "%q: login after", tt.data)
		require.NoError(t, m.DestroyUser(ctx, "alice"))
		assert.Equal(t, "", hServe(t, m, hWhoAmI, after).Body.String(), "%q: revoked again", tt.data)
	}
}

// rawCodec is a Codec that signs nothing: the value is the payload in
// base64url, so that a test can hand the middleware any payload.
type rawCodec struct{}

func (rawCodec) Encode(p []byte, _ time.Time) (string, error) {
	return base64.RawURLEncoding.EncodeToString(p), nil
}

func (rawCodec) Decode(v string, now time.Time) (sessions.Decoded, error) {
	p, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return sessions.Decoded{}, sessions.ErrMalformed
	}
	return sessions.Decoded{Payload: p, Issued: now}, nil
}

// TestSecurityRevocationBadStamp: a stamp that is not a generation, where
// the user has a record, is revoked; one that is not a string is
// malformed.
func TestSecurityRevocationBadStamp(t *testing.T) {
	rs := newCountingStore()
	m := hNew(t, sessions.SessionConfig{RevocationStore: rs, Codec: rawCodec{}})
	require.NoError(t, m.DestroyUser(context.Background(), "alice"))
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	good, _ := hCookie(t, hServe(t, m, hLogin("alice")))
	require.Equal(t, "alice", hServe(t, m, hWhoAmI, good).Body.String())
	for _, payload := range []string{
		`{"_ctxsession":{"c":1,"uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":"nonsense","uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":"","uid":"alice"}}`,
		`{"_ctxsession":{"c":1,"g":7,"uid":"alice"}}`,
	} {
		assert.Equal(t, "", hServe(t, m, hWhoAmI, enc(payload)).Body.String(), "%s", payload)
	}
	_, err := m.Decode(context.Background(), enc(`{"_ctxsession":{"c":1,"g":7,"uid":"alice"}}`))
	require.ErrorIs(t, err, sessions.ErrMalformed)
}

// ---- Responses ----

// TestSecurityResponsePublicBecomesPrivate: a response that sets the
// session cookie carries a Cache-Control no shared cache may store it
// under, whatever the handler set; one that sets no cookie is untouched.
func TestSecurityResponsePublicBecomesPrivate(t *testing.T) {
	m := hNew(t, sessions.SessionConfig{})
	for _, tt := range []struct {
		handler []string
		want    []string
	}{
		{nil, []string{`no-cache="Set-Cookie"`}},
		{[]string{"public, max-age=600"}, []string{"private, max-age=600", `no-cache="Set-Cookie"`}},
		{[]string{"max-age=600, PUBLIC"}, []string{"max-age=600, private", `no-cache="Set-Cookie"`}},
		{[]string{"s-maxage=600"}, []string{"s-maxage=600", `private, no-cache="Set-Cookie"`}},
		{[]string{"max-age=60", "public"}, []string{"max-age=60", "private", `no-cache="Set-Cookie"`}},
		{[]string{`no-store`}, []string{`no-store`, `no-cache="Set-Cookie"`}},
		{[]string{`private, no-cache="Set-Cookie, X"`}, []string{`private, no-cache="Set-Cookie, X"`, `no-cache="Set-Cookie"`}},
	} {
		rec := hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
			for _, v := range tt.handler {
				w.Header().Add("Cache-Control", v)
			}
			s, _ := sessions.GetSession(r.Context())
			s.Set("csrf", "t")
		})
		hCookie(t, rec)
		assert.Equal(t, tt.want, rec.Result().Header["Cache-Control"], "handler set %q", tt.handler)
	}
	rec := hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
	})
	assert.Equal(t, []string{"public, max-age=600"}, rec.Result().Header["Cache-Control"], "no cookie set")
}

// TestSecurityResponseCacheControlAfterCommit: after an explicit Commit,
// http.ServeContent's error path and a handler both remove or loosen
// Cache-Control; the response still goes out with one that keeps the
// cookie out of shared caches.
func TestSecurityResponseCacheControlAfterCommit(t *testing.T) {
	m := hNew(t, sessions.SessionConfig{})
	commit := func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.GetSession(r.Context())
		s.Set("csrf", "t")
		require.NoError(t, sessions.Commit(r.Context()))
	}
	rec := hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		http.ServeFile(w, r, filepath.Join(t.TempDir(), "missing"))
	})
	assert.Equal(t, http.StatusNotFound, rec.Code)
	hCookie(t, rec)
	assert.Equal(t, []string{`no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "ServeFile 404")

	rec = hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		r.Header.Set("Range", "bytes=100-200")
		http.ServeContent(w, r, "x.txt", hT0, strings.NewReader("short"))
	})
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, rec.Code)
	hCookie(t, rec)
	assert.Equal(t, []string{`no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "ServeContent 416")

	rec = hServe(t, m, func(w http.ResponseWriter, r *http.Request) {
		commit(w, r)
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Write([]byte("page"))
	})
	hCookie(t, rec)
	assert.Equal(t, []string{"private, max-age=600", `no-cache="Set-Cookie"`}, rec.Result().Header["Cache-Control"], "public set after Commit")
}

// outerHeaders sets headers the way middleware outside ours does: HSTS,
// CSP, CORS, a cookie of its own and, to go past the inline storage, more.
func outerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000")
		h.Set("Content-Security-Policy", "default-src 'self'")
		h.Set("Access-Control-Allow-Origin", "https://app.example.com")
		h.Add("Set-Cookie", "csrf=abc; Path=/")
		for i := range 8 {
			h.Set("X-Outer-"+strconv.Itoa(i), "1")
		}
		next.ServeHTTP(w, r)
	})
}

// TestSecurityResponseErrorReplyKeepsOuterHeaders: the default error
// reply drops what the handler set and our session cookie, and keeps the
// headers set before the middleware ran.
func TestSecurityResponseErrorReplyKeepsOuterHeaders(t *testing.T) {
	m := hNew(t, sessions.SessionConfig{Logger: discardLogger()})
	// Random bytes do not compress: too large for a cookie.
	raw := make([]byte, 6000)
	rand.NewChaCha8([32]byte{1}).Read(raw)
	big := base64.StdEncoding.EncodeToString(raw)
	for _, commitFirst := range []bool{false, true} {
		h := outerHeaders(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Handler", "1")
			w.Header().Set("Content-Disposition", "attachment")
			s, _ := sessions.GetSession(r.Context())
			if commitFirst {
				s.Set("small", "v")
				require.NoError(t, sessions.Commit(r.Context()))
			}
			s.Set("big", big) // too large for a cookie: the commit fails
			w.Write([]byte("page"))
		})))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		res := rec.Result()
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.Equal(t, "max-age=63072000", res.Header.Get("Strict-Transport-Security"))
		assert.Equal(t, "default-src 'self'", res.Header.Get("Content-Security-Policy"))
		assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
		for i := range 8 {
			assert.Equal(t, "1", res.Header.Get("X-Outer-"+strconv.Itoa(i)))
		}
		assert.Equal(t, []string{"csrf=abc; Path=/"}, res.Header["Set-Cookie"], "commit first %v", commitFirst)
		assert.Empty(t, res.Header.Get("X-Handler"))
		assert.Empty(t, res.Header.Get("Content-Disposition"))
	}
}

// TestSecurityResponseErrorReplyAllocs: noting the outer headers costs no
// allocation: an untouched request allocates as much with eight outer
// headers as with none.
func TestSecurityResponseErrorReplyAllocs(t *testing.T) {
	m := hNew(t, sessions.SessionConfig{})
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	bare := &nopWriter{h: http.Header{}}
	withOuter := &nopWriter{h: http.Header{}}
	outerHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(withOuter, req)
	for i := 4; i < 8; i++ {
		withOuter.h.Del("X-Outer-" + strconv.Itoa(i)) // eight keys left, all inline
	}
	require.Len(t, withOuter.h, 8)
	a := testing.AllocsPerRun(200, func() { h.ServeHTTP(bare, req) })
	b := testing.AllocsPerRun(200, func() { h.ServeHTTP(withOuter, req) })
	assert.Equal(t, a, b, "allocations with no outer headers, with eight")
	require.Len(t, bare.h, 0, "an untouched request gets no headers")
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// ---- Encrypted format ----

// TestSecurityEncryptedRejectsNonCanonical: an encrypted value with CR or
// LF inserted, or in any other non-canonical base64, is malformed, though
// Go's base64 would decode it to the same bytes.
func TestSecurityEncryptedRejectsNonCanonical(t *testing.T) {
	m := hNew(t, sessions.SessionConfig{Format: sessions.FormatEncrypted})
	v, err := m.Encode(map[string]any{"k": "v"})
	require.NoError(t, err)
	got, err := m.Decode(context.Background(), v)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"k": "v"}, got)
	mid := len(v) / 2
	bads := []string{
		v[:mid] + "\r\n" + v[mid:],
		v[:mid] + "\n" + v[mid:],
		v + "\r",
		"\n" + v,
		v[:len(v)-4] + "\n" + v[len(v)-4:],
	}
	if strings.HasSuffix(v, "=") {
		bads = append(bads, strings.TrimRight(v, "=")) // padding removed
	}
	for _, bad := range bads {
		_, err := m.Decode(context.Background(), bad)
		require.ErrorIs(t, err, sessions.ErrMalformed, "%q", bad)
	}
	// Unused bits of the last character set: the same bytes to a lenient
	// decoder, refused here.
	raw, err := base64.URLEncoding.DecodeString(v)
	require.NoError(t, err)
	if len(raw)%3 != 0 {
		alt := []byte(v)
		i := strings.IndexByte(v, '=') - 1
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		alt[i] = alphabet[strings.IndexByte(alphabet, alt[i])|1]
		if string(alt) != v {
			_, err := m.Decode(context.Background(), string(alt))
			require.ErrorIs(t, err, sessions.ErrMalformed)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
