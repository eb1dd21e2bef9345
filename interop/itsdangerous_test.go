package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run the real itsdangerous (python3) against the default
// cookie format, in both directions. A missing python3 or itsdangerous is a
// failure, not a skip.

const itsPeer = "testdata/peers/itsdangerous_peer.py"

// itsDumps has Python sign obj (JSON text) at now, as cookie name.
func itsDumps(t *testing.T, key, name string, now time.Time, obj string) string {
	t.Helper()
	return runPeer(t, "python3", itsPeer, obj, "dumps", key, name, strconv.FormatInt(now.Unix(), 10))
}

// itsLoads has Python verify value at now with max_age; it returns the
// payload as JSON, or "error: <exception class>".
func itsLoads(t *testing.T, key, name string, now time.Time, maxAge time.Duration, value string, older ...string) string {
	t.Helper()
	args := append([]string{"loads", key, name, strconv.FormatInt(now.Unix(), 10), strconv.Itoa(int(maxAge / time.Second))}, older...)
	return runPeer(t, "python3", itsPeer, value, args...)
}

// itsJSON parses JSON text as a generic value, numbers kept exact.
func itsJSON(t *testing.T, text string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("peer output %q is not JSON: %v", text, err)
	}
	return v
}

// itsValues is a set of session values that exercise the JSON mapping:
// unicode, nesting, numbers beyond float64 precision, empty containers.
var itsValues = map[string]any{
	"user":    "ålice ☃ 𝄞 \u2028 \"quoted\" \\ <tag>",
	"n":       json.Number("123456789012345678901234567890"),
	"neg":     -42,
	"float":   1.25,
	"t":       true,
	"nothing": nil,
	"nested":  map[string]any{"list": []any{1, "two", map[string]any{"three": []any{}}}, "empty": map[string]any{}},
}

func TestItsdangerousGoMintsPythonVerifies(t *testing.T) {
	e := mwNew(t, SessionConfig{MaxAge: time.Hour})
	now := e.clock.Now()

	// Through a real request: what the middleware writes, Python reads.
	rec := e.do(func(w http.ResponseWriter, r *http.Request) {
		s := mwGetSession(t, r)
		for k, v := range itsValues {
			s.Set(k, v)
		}
		s.AddFlash("info", "hé")
	}, "")
	c := mwSessionCookie(t, rec.Header(), "session")
	if c == nil {
		t.Fatal("no cookie")
	}
	got := itsJSON(t, itsLoads(t, mwKey, "session", now, time.Hour, c.Value))
	want := map[string]any{}
	for k, v := range itsValues {
		want[k] = v
	}
	want[ReservedKey] = map[string]any{"c": now.Unix(), "f": []any{[]any{"info", "hé"}}}
	wantJSON, err := appendJSON(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, itsJSON(t, string(wantJSON))) {
		t.Errorf("Python read\n %v\nwant\n %s", got, wantJSON)
	}

	// A compressed cookie, under another cookie name.
	big := map[string]any{"items": strings.Split(strings.Repeat("item,", 300), ",")}
	e2 := mwNew(t, SessionConfig{CookieName: "__Host-app", Secure: true})
	v, err := e2.m.EncodeAt(big, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, ".") {
		t.Fatalf("expected a compressed cookie, got %.40s...", v)
	}
	out := itsLoads(t, mwKey, "__Host-app", now, time.Hour, v)
	items, _ := itsJSON(t, out).(map[string]any)["items"].([]any)
	if len(items) != 301 {
		t.Errorf("Python read %d items from the compressed cookie, want 301", len(items))
	}
	// The salt binds the cookie name.
	if out := itsLoads(t, mwKey, "session", now, time.Hour, v); !strings.HasPrefix(out, "error: ") {
		t.Errorf("Python accepted a cookie under another name: %s", out)
	}
}

func TestItsdangerousPythonMintsGoReads(t *testing.T) {
	e := mwNew(t, SessionConfig{MaxAge: time.Hour})
	now := e.clock.Now()
	tests := []struct {
		name       string
		obj        string
		compressed bool
		check      func(t *testing.T, s *Session)
	}{
		{"unicode and nesting", `{"name":"ålice ☃ 𝄞","prefs":{"langs":["fr","日本語"],"n":{"deep":[[1],[2]]}}}`, false,
			func(t *testing.T, s *Session) {
				if v, _ := GetAs[string](s, "name"); v != "ålice ☃ 𝄞" {
					t.Errorf("name = %q", v)
				}
				type prefs struct {
					Langs []string `json:"langs"`
				}
				if p, ok := GetAs[prefs](s, "prefs"); !ok || !reflect.DeepEqual(p.Langs, []string{"fr", "日本語"}) {
					t.Errorf("prefs = %+v, %v", p, ok)
				}
			}},
		{"large integers", `{"big":1208925819614629174706176,"i":9007199254740993,"f":0.1}`, false,
			func(t *testing.T, s *Session) {
				big, _ := s.Get("big")
				if big != json.Number("1208925819614629174706176") {
					t.Errorf("2**80 read as %#v", big)
				}
				if _, ok := GetAs[int64](s, "big"); ok {
					t.Errorf("GetAs[int64] accepted 2**80")
				}
				if i, ok := GetAs[int64](s, "i"); !ok || i != 9007199254740993 {
					t.Errorf("2**53+1 read as %d, %v (precision lost?)", i, ok)
				}
				if f, _ := GetAs[float64](s, "f"); f != 0.1 {
					t.Errorf("f = %v", f)
				}
			}},
		{"compressed", `{"items":[` + strings.TrimSuffix(strings.Repeat(`"item",`, 200), ",") + `]}`, true,
			func(t *testing.T, s *Session) {
				if v, ok := GetAs[[]string](s, "items"); !ok || len(v) != 200 || v[199] != "item" {
					t.Errorf("items: %d, %v", len(v), ok)
				}
			}},
		{"user id written by Python", `{"cart":[1],"_ctxsession":{"c":` + strconv.FormatInt(now.Unix(), 10) + `,"uid":"py-7"}}`, false,
			func(t *testing.T, s *Session) {
				if s.UserID() != "py-7" || !s.Created().Equal(now) || s.Len() != 1 {
					t.Errorf("user %q created %v, %d keys", s.UserID(), s.Created(), s.Len())
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookie := itsDumps(t, mwKey, "session", now, tt.obj)
			if strings.HasPrefix(cookie, ".") != tt.compressed {
				t.Fatalf("Python cookie %.30s...: compressed %v, want %v", cookie, !tt.compressed, tt.compressed)
			}
			before := len(e.logs.rejections())
			rec := e.do(func(w http.ResponseWriter, r *http.Request) { tt.check(t, mwGetSession(t, r)) }, cookie)
			if rej := e.logs.rejections()[before:]; len(rej) != 0 {
				t.Errorf("Go rejected Python's cookie: %v", rej)
			}
			if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("reading Python's cookie re-set it: %q", got)
			}
			if _, err := e.m.Decode(cookie); err != nil {
				t.Errorf("Middleware.Decode: %v", err)
			}
		})
	}
}

func TestItsdangerousExpiryBothWays(t *testing.T) {
	const maxAge = time.Hour
	e := mwNew(t, SessionConfig{MaxAge: maxAge})
	t0 := e.clock.Now()

	// Go mints at t0; Python checks at several times.
	goCookie := e.mint(map[string]any{"k": "v"})
	for _, tt := range []struct {
		at     time.Duration
		expect string // "" accepted, else the exception class
	}{
		{0, ""},
		{maxAge, ""},
		{maxAge + time.Second, "SignatureExpired"},
		{-time.Second, "SignatureExpired"}, // signed in Python's future
	} {
		out := itsLoads(t, mwKey, "session", t0.Add(tt.at), maxAge, goCookie)
		if tt.expect == "" && strings.HasPrefix(out, "error") || tt.expect != "" && out != "error: "+tt.expect {
			t.Errorf("Python at %+v: %s, want %q", tt.at, out, tt.expect)
		}
	}

	// Python mints; Go checks.
	read := func(cookie string) (int, []error) {
		before := len(e.logs.rejections())
		n := 0
		e.do(func(w http.ResponseWriter, r *http.Request) { n = mwGetSession(t, r).Len() }, cookie)
		return n, e.logs.rejections()[before:]
	}
	old := itsDumps(t, mwKey, "session", t0.Add(-maxAge-time.Second), `{"k":"v"}`)
	if n, rej := read(old); n != 0 || len(rej) != 1 || !errors.Is(rej[0], ErrExpired) {
		t.Errorf("expired Python cookie: %d keys, rejections %v; want ErrExpired", n, rej)
	}
	edge := itsDumps(t, mwKey, "session", t0.Add(-maxAge), `{"k":"v"}`)
	if n, rej := read(edge); n != 1 || len(rej) != 0 {
		t.Errorf("Python cookie exactly MaxAge old: %d keys, rejections %v; want accepted", n, rej)
	}
	future := itsDumps(t, mwKey, "session", t0.Add(2*DefaultClockSkew), `{"k":"v"}`)
	if n, rej := read(future); n != 0 || len(rej) != 1 || !errors.Is(rej[0], ErrFuture) {
		t.Errorf("future Python cookie: %d keys, rejections %v; want ErrFuture", n, rej)
	}
	skewed := itsDumps(t, mwKey, "session", t0.Add(DefaultClockSkew/2), `{"k":"v"}`)
	if n, rej := read(skewed); n != 1 || len(rej) != 0 {
		t.Errorf("Python cookie within the clock skew: %d keys, rejections %v; want accepted", n, rej)
	}
}

func TestItsdangerousTamperAndWrongKey(t *testing.T) {
	e := mwNew(t, SessionConfig{})
	now := e.clock.Now()
	tamper := func(v string) string {
		// Change the payload, keeping timestamp and signature.
		payload, rest, _ := strings.Cut(v, ".")
		b, _ := b64.DecodeString(payload)
		b = bytes.Replace(b, []byte(`"v"`), []byte(`"w"`), 1)
		return b64.EncodeToString(b) + "." + rest
	}

	goCookie := e.mint(map[string]any{"k": "v"})
	for name, value := range map[string]string{"tampered": tamper(goCookie), "truncated": goCookie[:len(goCookie)-3]} {
		if out := itsLoads(t, mwKey, "session", now, time.Hour, value); !strings.HasPrefix(out, "error: Bad") {
			t.Errorf("Python accepted a %s Go cookie: %s", name, out)
		}
	}
	if out := itsLoads(t, mwOtherKey, "session", now, time.Hour, goCookie); !strings.HasPrefix(out, "error: Bad") {
		t.Errorf("Python accepted a Go cookie under the wrong key: %s", out)
	}

	pyCookie := itsDumps(t, mwKey, "session", now, `{"k":"v"}`)
	pyOther := itsDumps(t, mwOtherKey, "session", now, `{"k":"v"}`)
	for name, value := range map[string]string{"tampered": tamper(pyCookie), "wrong key": pyOther} {
		if _, err := e.m.Decode(value); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Go on a %s Python cookie: err %v, want ErrBadSignature", name, err)
		}
		n := -1
		e.do(func(w http.ResponseWriter, r *http.Request) { n = mwGetSession(t, r).Len() }, value)
		if n != 0 {
			t.Errorf("middleware on a %s Python cookie: %d keys, want a fresh session", name, n)
		}
	}
}

func TestItsdangerousFallbackKeys(t *testing.T) {
	e := mwNew(t, SessionConfig{SecretKey: mwKey, FallbackKeys: []string{mwOldKey}})
	now := e.clock.Now()

	// Python, still on the old key, mints; Go accepts it through the
	// fallback and re-signs it with the current key on the same response.
	pyOld := itsDumps(t, mwOldKey, "session", now, `{"k":"v"}`)
	var got string
	rec := e.do(func(w http.ResponseWriter, r *http.Request) { got, _ = GetAs[string](mwGetSession(t, r), "k") }, pyOld)
	c := mwSessionCookie(t, rec.Header(), "session")
	if got != "v" || c == nil {
		t.Fatalf("fallback-signed Python cookie: k = %q, re-signed %v", got, c != nil)
	}
	if out := itsLoads(t, mwKey, "session", now, time.Hour, c.Value); !strings.Contains(out, `"k":"v"`) {
		t.Errorf("Python with the current key alone on the re-signed cookie: %s", out)
	}
	if out := itsLoads(t, mwOldKey, "session", now, time.Hour, c.Value); !strings.HasPrefix(out, "error: Bad") {
		t.Errorf("re-signed cookie still verifies under the old key: %s", out)
	}

	// Go mints with the current key; Python, configured with the same key
	// list (old first, current last), verifies and signs with the current key.
	goCookie := e.mint(map[string]any{"k": "v"})
	if out := itsLoads(t, mwKey, "session", now, time.Hour, goCookie, mwOldKey); !strings.Contains(out, `"k":"v"`) {
		t.Errorf("Python with the key list on Go's cookie: %s", out)
	}
	pyNew := runPeer(t, "python3", itsPeer, `{"k":"w"}`, "dumps", mwKey, "session", strconv.FormatInt(now.Unix(), 10))
	if v, err := e.m.Decode(pyNew); err != nil || v["k"] != "w" {
		t.Errorf("Go on Python's current-key cookie: %v, %v", v, err)
	}
}
