package sessions_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/strictjson"
	"github.com/ctxsession/sessions/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetAsEditsStick: a map or pointer from GetAs is the session's own,
// so an in-place edit is saved on a later request too, and later Get and
// GetAs calls return the same object.
func TestGetAsEditsStick(t *testing.T) {
	type prefs struct {
		Theme string `json:"theme"`
		Size  int    `json:"size"`
	}
	for mode, cfg := range modes(t, sessions.SessionConfig{}) {
		t.Run(mode, func(t *testing.T) {
			e := sessions.NewEnv(t, cfg)
			c := e.MustVisit("", func(_ *http.Request, s *sessions.Session) {
				s.Set("cart", map[string]int{"apple": 1})
				s.Set("prefs", prefs{Theme: "light", Size: 1})
			}).Cookie
			require.NotEmpty(t, c)
			// No Visit here: its handler reads every key before the edit.
			rec := e.Do(func(w http.ResponseWriter, r *http.Request) {
				s := sessions.MustSession(t, r)
				cart, ok := sessions.GetAs[map[string]int](s, "cart")
				require.True(t, ok)
				cart["apple"]++
				p, ok := sessions.GetAs[*prefs](s, "prefs")
				require.True(t, ok)
				p.Theme = "dark"
				again, _ := sessions.GetAs[*prefs](s, "prefs")
				assert.Same(t, p, again, "a second GetAs returns the same object")
				raw, _ := s.Get("prefs")
				assert.Same(t, p, raw, "Get returns the converted object")
			}, c)
			require.Equal(t, http.StatusOK, rec.Code)
			c2 := c // store mode: the id cookie need not change
			if sc := testkit.SetCookie(t, rec.Header(), e.Name); sc != nil && sc.MaxAge >= 0 {
				c2 = sc.Value
			}
			got := e.MustVisit(c2, nil).Seen.Values
			assert.Equal(t, map[string]any{"apple": json.Number("2")}, got["cart"])
			assert.Equal(t, map[string]any{"theme": "dark", "size": json.Number("1")}, got["prefs"])
			assert.Empty(t, e.Errors())
		})
	}
}

// TestWriterRefusesWhatReaderRejects: a value the decoder would refuse is
// an error naming its key before anything is written, and the previous
// cookie (or record) keeps the session.
func TestWriterRefusesWhatReaderRejects(t *testing.T) {
	deep := any("x")
	for range strictjson.MaxDepth + 1 {
		deep = []any{deep}
	}
	cycle := map[string]any{}
	cycle["self"] = cycle
	cases := []struct {
		name  string
		value any
		want  string
	}{
		{"deep", deep, "nesting deeper than"},
		{"utf8", "bad\xffbyte", "not valid UTF-8"},
		{"keys", map[string]int{"\xff": 1, "\xfe": 2}, "duplicate key"},
		{"cycle", cycle, "contains itself"},
		{"chan", make(chan int), "unsupported type: chan int"},
	}
	for mode, cfg := range modes(t, sessions.SessionConfig{}) {
		t.Run(mode, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					e := sessions.NewEnv(t, cfg)
					c := e.Issue("", map[string]any{"keep": "v"})
					v := e.Visit(c, func(_ *http.Request, s *sessions.Session) { s.Set(tc.name, tc.value) })
					require.NoError(t, v.Seen.Err, "GetSession")
					assert.Equal(t, http.StatusInternalServerError, v.Rec.Code)
					assert.Empty(t, v.Cookie, "no cookie for a session that cannot be saved")
					errs := e.Errors()
					require.Len(t, errs, 1)
					assert.ErrorContains(t, errs[0], `key "`+tc.name+`"`)
					assert.ErrorContains(t, errs[0], tc.want)
					keep, _ := read(t, e, c, "keep")
					assert.Equal(t, "v", keep, "the previous session is intact")
				})
			}
		})
	}
}

// panicky is a value whose encoding panics.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// TestEncodePanicReleasesLocks: a value whose encoding panics leaves no
// lock held, so a handler that recovers can go on using the session.
func TestEncodePanicReleasesLocks(t *testing.T) {
	e := sessions.NewEnv(t, sessions.SessionConfig{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Do(func(w http.ResponseWriter, r *http.Request) {
			s := sessions.MustSession(t, r)
			s.Set("p", panicky{})
			func() {
				defer func() { assert.Equal(t, "boom", recover()) }()
				sessions.Commit(r.Context())
			}()
			s.Delete("p")
			s.Set("ok", 1)
			_, err := sessions.GetSession(r.Context())
			assert.NoError(t, err)
		}, "")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session stayed locked after a panic while encoding")
	}
}
