package sessionstest

//lint:file-ignore ST1005 failure messages start with the name of the Store method or the request that failed
import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

// RunMiddleware checks a store through the middleware (sessions.New with
// the store, over real HTTP): overlapping requests of one session are
// merged key by key, so that neither loses the other's changes, and a
// session ended by one request stays ended. Overlaps are made exact with
// gates: a request loads the session, then waits until the test lets it
// go on.
func RunMiddleware(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"DifferentKeysBothSurvive", testMergeDifferentKeys},
		{"SameKeyLaterSaveWins", testMergeSameKey},
		{"DeletedKeyStaysDeleted", testMergeDeleted},
		{"DeletedKeySetAgain", testMergeDeletedSetAgain},
		{"EmptiedWhileAdding", testMergeEmptied},
		{"ReadOnlyWritesNothing", testMergeReadOnly},
		{"LogoutWhileChanging", testMergeLogout},
		{"ChangeAfterLogout", testMergeLogoutFirst},
		{"ManyRequestsNoKeyLost", testMergeMany},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t, newStore(t)))
		})
	}
}

// harness serves one middleware over HTTP. Its handler takes the request's
// work from the query: gate=NAME (after loading, wait for the test to open
// the gate), then login=USER, set=KEY=VALUE, del=KEY, logout=1, in that
// order. It replies with the session as it is at the end (a state).
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	writes atomic.Int64 // Create, Update and Delete calls the store got
	mu     sync.Mutex
	gates  map[string]*gate
}

// A gate holds a request after it loaded its session.
type gate struct {
	loaded  chan struct{} // closed by the request once it has loaded
	release chan struct{} // closed by the test to let it go on
}

// state is a response: the session's user and values.
type state struct {
	User   string            `json:"user"`
	Values map[string]string `json:"values"`
	cookie string            // the session cookie the client holds after it
}

// counting counts the writes a store receives.
type counting struct {
	sessions.Store
	writes *atomic.Int64
}

func (c counting) Create(ctx context.Context, r sessions.Record) error {
	c.writes.Add(1)
	return c.Store.Create(ctx, r)
}

func (c counting) Update(ctx context.Context, r sessions.Record) (bool, error) {
	c.writes.Add(1)
	return c.Store.Update(ctx, r)
}

func (c counting) Delete(ctx context.Context, id string) error {
	c.writes.Add(1)
	return c.Store.Delete(ctx, id)
}

func newHarness(t *testing.T, store sessions.Store) *harness {
	h := &harness{t: t, gates: make(map[string]*gate)}
	mw, err := sessions.New(sessions.SessionConfig{
		SecretKey: "sessionstest-secret-key-0123456789abcdef",
		Store:     counting{store, &h.writes},
		Logger:    slog.New(slog.DiscardHandler),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		},
	})
	if err != nil {
		t.Fatalf("sessions.New: %v", err)
	}
	h.srv = httptest.NewServer(mw.Handler(http.HandlerFunc(h.serve)))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) serve(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), r.URL.Query()
	s, err := sessions.GetSession(ctx)
	if err != nil {
		http.Error(w, "GetSession: "+err.Error(), http.StatusInternalServerError)
		return
	}
	for _, k := range s.Keys() { // read everything, as a page would
		s.Get(k)
	}
	if name := q.Get("gate"); name != "" {
		g := h.gate(name)
		close(g.loaded)
		select {
		case <-g.release:
		case <-time.After(20 * time.Second):
			http.Error(w, "gate "+name+" never opened", http.StatusInternalServerError)
			return
		}
	}
	if err := apply(ctx, s, q); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeState(w, ctx)
}

// apply does the query's login, set, del and logout.
func apply(ctx context.Context, s *sessions.Session, q url.Values) error {
	if user := q.Get("login"); user != "" {
		if err := sessions.Login(ctx, user); err != nil {
			return fmt.Errorf("Login: %w", err)
		}
	}
	for _, kv := range q["set"] {
		k, v, _ := strings.Cut(kv, "=")
		s.Set(k, v)
	}
	for _, k := range q["del"] {
		s.Delete(k)
	}
	if q.Get("logout") != "" {
		if err := sessions.Logout(ctx); err != nil {
			return fmt.Errorf("Logout: %w", err)
		}
	}
	return nil
}

func writeState(w http.ResponseWriter, ctx context.Context) {
	s, err := sessions.GetSession(ctx)
	if err != nil {
		http.Error(w, "GetSession: "+err.Error(), http.StatusInternalServerError)
		return
	}
	st := state{User: s.UserID(), Values: make(map[string]string)}
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		st.Values[k] = fmt.Sprint(v)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// gate returns the gate called name, making it on first use.
func (h *harness) gate(name string) *gate {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.gates[name]
	if g == nil {
		g = &gate{loaded: make(chan struct{}), release: make(chan struct{})}
		h.gates[name] = g
	}
	return g
}

// do sends one request with the session cookie (none if ""), the query
// made of pairs (key, value, key, value...), and returns the response's
// state. It is safe to call from any goroutine; it reports failures as
// errors, not through t.
func (h *harness) do(cookie string, pairs ...string) (state, error) {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Add(pairs[i], pairs[i+1])
	}
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/?"+q.Encode(), nil)
	if err != nil {
		return state{}, err
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	}
	client := http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return state{}, fmt.Errorf("request %s: %w", q.Encode(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return state{}, fmt.Errorf("request %s: %s: %s", q.Encode(), resp.Status, body)
	}
	var st state
	if err := json.Unmarshal(body, &st); err != nil {
		return state{}, fmt.Errorf("request %s: %w: %s", q.Encode(), err, body)
	}
	st.cookie = cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			st.cookie = c.Value
		}
	}
	return st, nil
}

// must is do, failing the test on an error.
func (h *harness) must(cookie string, pairs ...string) state {
	h.t.Helper()
	st, err := h.do(cookie, pairs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// start creates a session with the given query and returns its cookie.
func (h *harness) start(pairs ...string) string {
	h.t.Helper()
	st := h.must("", pairs...)
	if st.cookie == "" {
		h.t.Fatalf("request %q set no session cookie", pairs)
	}
	return st.cookie
}

// overlap runs request a, which loads the session and then waits at a
// gate, and request b, which runs from start to end in the meantime; then
// a goes on. It returns both states and the number of store writes made
// after b's response.
func (h *harness) overlap(cookie string, a, b []string) (sa, sb state, writesAfterB int64) {
	h.t.Helper()
	name := NewID()
	g := h.gate(name)
	done := make(chan error, 1)
	go func() {
		var err error
		sa, err = h.do(cookie, append([]string{"gate", name}, a...)...)
		done <- err
	}()
	select {
	case <-g.loaded:
	case err := <-done:
		h.t.Fatalf("request A ended before loading its session: %v", err)
	}
	sb, errB := h.do(cookie, b...)
	before := h.writes.Load()
	close(g.release)
	if err := <-done; err != nil {
		h.t.Fatalf("request A: %v", err)
	}
	if errB != nil {
		h.t.Fatalf("request B, while A held the session loaded: %v (requests of one session must overlap)", errB)
	}
	return sa, sb, h.writes.Load() - before
}

// checkValues fails the test unless st holds exactly want.
func checkValues(t *testing.T, what string, st state, want map[string]string) {
	t.Helper()
	if len(st.Values) != len(want) {
		t.Fatalf("%s: values %v; want %v", what, st.Values, want)
	}
	for k, v := range want {
		if got, ok := st.Values[k]; !ok || got != v {
			t.Fatalf("%s: values %v; want %v", what, st.Values, want)
		}
	}
}
