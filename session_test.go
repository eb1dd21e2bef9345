package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
)

// newTestSession returns an empty session of the default format, as the
// middleware creates it.
func newTestSession() *Session {
	return &Session{scheme: defaultScheme{}, values: map[string]any{}}
}

func TestSessionMethods(t *testing.T) {
	s := newTestSession()
	if s.Len() != 0 || len(s.Keys()) != 0 || s.UserID() != "" || !s.Created().IsZero() {
		t.Fatalf("new session: len %d keys %v user %q created %v", s.Len(), s.Keys(), s.UserID(), s.Created())
	}
	s.Set("b", 2)
	s.Set("a", "x")
	s.Set("c", nil)
	if got := s.Keys(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Keys = %v, want sorted [a b c]", got)
	}
	if v, ok := s.Get("c"); v != nil || !ok {
		t.Errorf("Get of a nil value = %v, %v; want nil, true", v, ok)
	}
	if v, ok := s.Get("missing"); v != nil || ok {
		t.Errorf("Get(missing) = %v, %v", v, ok)
	}
	s.Set(ReservedKey, "x")
	if _, ok := s.Get(ReservedKey); ok || s.Len() != 3 {
		t.Errorf("Set(ReservedKey) stored it (len %d)", s.Len())
	}
	s.Delete("b")
	if _, ok := s.Get("b"); ok || s.Len() != 2 {
		t.Errorf("Delete left b (len %d)", s.Len())
	}
	s.meta.UserID = "u"
	s.AddFlash("info", "one")
	s.Clear()
	if s.Len() != 0 || s.UserID() != "u" || len(s.meta.Flashes) != 1 {
		t.Errorf("Clear: len %d user %q flashes %v; want 0, user and flashes kept", s.Len(), s.UserID(), s.meta.Flashes)
	}
	if f := s.Flashes(); len(f) != 1 || f[0] != (Flash{"info", "one"}) {
		t.Errorf("Flashes = %v", f)
	}
	if f := s.Flashes(); f != nil {
		t.Errorf("Flashes twice = %v, want nil", f)
	}
}

func TestSessionDirty(t *testing.T) {
	load := func(values map[string]any) *Session {
		s := newTestSession()
		s.values = values
		return s
	}
	tests := []struct {
		name   string
		values map[string]any
		change func(s *Session)
		dirty  bool
	}{
		{"nothing", map[string]any{"a": json.Number("1")}, func(s *Session) { s.Get("a") }, false},
		{"set", map[string]any{}, func(s *Session) { s.Set("a", 1) }, true},
		{"delete missing", map[string]any{}, func(s *Session) { s.Delete("a") }, false},
		{"clear empty", map[string]any{}, func(s *Session) { s.Clear() }, false},
		{"read a map", map[string]any{"m": map[string]any{"k": "v"}}, func(s *Session) { s.Get("m") }, false},
		{"change a map", map[string]any{"m": map[string]any{"k": "v"}}, func(s *Session) {
			m, _ := s.Get("m")
			m.(map[string]any)["k"] = "w"
		}, true},
		{"append to a nested slice", map[string]any{"m": map[string]any{"l": []any{}}}, func(s *Session) {
			m, _ := s.Get("m")
			m.(map[string]any)["l"] = append(m.(map[string]any)["l"].([]any), 1)
		}, true},
		{"change a slice after reading another key", map[string]any{"l": []any{"a"}, "n": json.Number("1")}, func(s *Session) {
			s.Get("n")
			l, _ := s.Get("l")
			l.([]any)[0] = "b"
		}, true},
	}
	for _, tt := range tests {
		s := load(tt.values)
		tt.change(s)
		if got := s.dirty(); got != tt.dirty {
			t.Errorf("%s: dirty = %v, want %v", tt.name, got, tt.dirty)
		}
	}
}

// In-place changes made after an explicit Commit, to a map or slice handed
// out or stored before it, are committed again (before the headers) or
// reported (after them), never silently lost.
func TestInPlaceChangeAfterCommit(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	cookie := e.mint(map[string]any{"list": []any{"a"}})
	tests := []struct {
		name string
		h    func(t *testing.T, w http.ResponseWriter, r *http.Request)
		want string // the value of list[0] or m["x"] the cookie must carry
	}{
		{"loaded slice", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			s := mwGetSession(t, r)
			l, _ := s.Get("list")
			s.Set("other", 1) // so that Commit writes
			if err := Commit(r.Context()); err != nil {
				t.Error(err)
			}
			l.([]any)[0] = "changed"
			io.WriteString(w, "body")
		}, "changed"},
		{"stored map", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			m := map[string]any{"x": "before"}
			mwGetSession(t, r).Set("m", m)
			if err := Commit(r.Context()); err != nil {
				t.Error(err)
			}
			m["x"] = "changed"
		}, "changed"},
	}
	for _, tt := range tests {
		rec := e.do(func(w http.ResponseWriter, r *http.Request) { tt.h(t, w, r) }, cookie)
		c := mwSessionCookie(t, rec.Header(), "session")
		if c == nil {
			t.Fatalf("%s: no cookie", tt.name)
		}
		v, err := e.m.Decode(context.Background(), c.Value)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if l, ok := v["list"].([]any); ok && tt.name == "loaded slice" {
			got = l[0]
		}
		if m, ok := v["m"].(map[string]any); ok {
			got = m["x"]
		}
		if got != tt.want {
			t.Errorf("%s: cookie carries %v, want %q", tt.name, v, tt.want)
		}
	}

	// After the headers: reported.
	e.do(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		l, _ := s.Get("list")
		s.Set("other", 1) // so that the session is written with the headers
		io.WriteString(w, "body")
		l.([]any)[0] = "too late"
	}, cookie)
	if errs := e.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrHeadersWritten) {
		t.Errorf("in-place change after the headers: errors %v, want [ErrHeadersWritten]", errs)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	created := time.Unix(1700000000, 0)
	tests := []struct {
		name   string
		values map[string]any
		md     meta
		want   string
	}{
		{"empty", map[string]any{}, meta{}, `{"_ctxsession":{"c":0}}`},
		{"values", map[string]any{"b": 1, "a": "x"}, meta{Created: created}, `{"a":"x","b":1,"_ctxsession":{"c":1700000000}}`},
		{"all metadata", map[string]any{}, meta{UserID: "u\"1", Created: created, Fresh: true, Flashes: []Flash{{"info", "hé"}, {"", ""}}},
			`{"_ctxsession":{"c":1700000000,"f":[["info","hé"],["",""]],"fresh":true,"uid":"u\"1"}}`},
	}
	for _, tt := range tests {
		got, err := encodePayload(nil, defaultScheme{}, tt.values, tt.md)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: encodePayload = %s, %v; want %s", tt.name, got, err, tt.want)
			continue
		}
		values, md, err := decodePayload(defaultScheme{}, got)
		if err != nil {
			t.Errorf("%s: decodePayload: %v", tt.name, err)
			continue
		}
		if len(values) != len(tt.values) || md.UserID != tt.md.UserID || !md.Created.Equal(tt.md.Created) ||
			md.Fresh != tt.md.Fresh || !slices.Equal(md.Flashes, tt.md.Flashes) {
			t.Errorf("%s: decoded %v %+v, want %v %+v", tt.name, values, md, tt.values, tt.md)
		}
	}
	// A payload without metadata (written by another system) is fine.
	values, md, err := decodePayload(defaultScheme{}, []byte(`{"k":[1]}`))
	if err != nil || !reflect.DeepEqual(values, map[string]any{"k": []any{json.Number("1")}}) || md.UserID != "" || !md.Created.IsZero() {
		t.Errorf("payload without metadata: %v %+v %v", values, md, err)
	}
	for _, bad := range []string{
		`{"_ctxsession":1}`, `{"_ctxsession":{"uid":1}}`, `{"_ctxsession":{"c":-1}}`, `{"_ctxsession":{"c":1.5}}`,
		`{"_ctxsession":{"c":"1"}}`, `{"_ctxsession":{"fresh":"yes"}}`, `{"_ctxsession":{"f":{}}}`,
		`{"_ctxsession":{"f":[["a",1]]}}`, `{"_ctxsession":{"f":[["a","b","c"]]}}`, `{"_ctxsession":{"f":["ab"]}}`,
	} {
		if _, _, err := decodePayload(defaultScheme{}, []byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodePayload(%s): err %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := encodePayload(nil, defaultScheme{}, map[string]any{"c": make(chan int)}, meta{}); err == nil {
		t.Error("encodePayload of a channel: nil error")
	}
}

// A JSON null is a nil for the types that have one, and fits no other.
func TestGetAsNull(t *testing.T) {
	s := newTestSession()
	s.values = map[string]any{"null": nil}
	if v, ok := GetAs[any](s, "null"); v != nil || !ok {
		t.Errorf("GetAs[any](null) = %v, %v; want nil, true", v, ok)
	}
	if v, ok := GetAs[*int](s, "null"); v != nil || !ok {
		t.Errorf("GetAs[*int](null) = %v, %v; want nil, true", v, ok)
	}
	if v, ok := GetAs[map[string]any](s, "null"); v != nil || !ok {
		t.Errorf("GetAs[map](null) = %v, %v; want nil, true", v, ok)
	}
	if v, ok := GetAs[[]string](s, "null"); v != nil || !ok {
		t.Errorf("GetAs[[]string](null) = %v, %v; want nil, true", v, ok)
	}
	if v, ok := GetAs[string](s, "null"); v != "" || ok {
		t.Errorf("GetAs[string](null) = %q, %v; want \"\", false", v, ok)
	}
	if v, ok := GetAs[int](s, "null"); v != 0 || ok {
		t.Errorf("GetAs[int](null) = %v, %v; want 0, false", v, ok)
	}
	type pair struct{ A int }
	if _, ok := GetAs[pair](s, "null"); ok {
		t.Errorf("GetAs[struct](null): ok")
	}
	if _, ok := GetAs[any](s, "missing"); ok {
		t.Errorf("GetAs[any](missing): ok")
	}
}
