package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Fuzz targets of the attack surface: cookie values (every format's
// decoder), whole Cookie headers through the middleware, and the
// configuration that ends up in the Set-Cookie line. Seed corpora are
// checked in under testdata/fuzz; the targets also add seeds made at run
// time with the fuzz key (valid cookies of every format).

// secFormats is every built-in format.
var secFormats = []Format{FormatItsdangerous, FormatFlask, FormatStarlette, FormatJWT, FormatEncrypted}

// secFuzzMiddleware returns a Middleware of format f on a clock stopped at
// secT0.
func secFuzzMiddleware(t testing.TB, f Format) *Middleware {
	return secNew(t, SessionConfig{Format: f, Now: func() time.Time { return secT0 }})
}

// secFuzzSeeds returns valid cookies of every format, signed at secT0.
func secFuzzSeeds(t testing.TB) []string {
	var out []string
	for _, f := range secFormats {
		m := secFuzzMiddleware(t, f)
		for _, vals := range []map[string]any{
			{},
			{"user": "alice", "n": json.Number("12345678901234567890"), "list": []any{1, "two", nil, true}},
			{"nested": map[string]any{"a": map[string]any{"b": []any{}}}, "s": strings.Repeat("x", 200)},
		} {
			v, err := m.Encode(vals)
			if err != nil {
				t.Fatalf("%v: Encode: %v", f, err)
			}
			out = append(out, v)
		}
	}
	return out
}

// FuzzFormatDecode feeds arbitrary values to the decoder of every format.
// None may panic; every rejection matches ErrInvalidCookie; a value one
// accepts decodes to session keys that encode again and decode to the same
// keys.
func FuzzFormatDecode(f *testing.F) {
	for _, s := range secFuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "e30.AAAA.AAAA", ".eJwDAAAAAAE.AAAA.AAAA", "eyJhbGciOiJub25lIn0.e30.", "MTIzfGFiY3xkZWY=",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhIjoxfQ.", ".eJyrVkpUslIqS8xRqgUAHaIEVw.awJUaQ.d4OiMvgiZPhOLsGB8B5qGrpQEzM"} {
		f.Add(s)
	}
	ms := make([]*Middleware, len(secFormats))
	for i, format := range secFormats {
		ms[i] = secFuzzMiddleware(f, format)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for i, m := range ms {
			format := secFormats[i]
			d, err := m.codec.Decode(value, secT0)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("%v: codec Decode error %v does not match ErrInvalidCookie", format, err)
				}
			} else if v2, err := m.codec.Encode(d.Payload, secT0); err != nil {
				t.Fatalf("%v: codec accepted %q but cannot encode its payload: %v", format, value, err)
			} else if _, err := m.codec.Decode(v2, secT0); err != nil {
				t.Fatalf("%v: codec accepted %q; its payload re-encoded is rejected: %v", format, value, err)
			}

			values, err := m.Decode(context.Background(), value)
			if err != nil {
				if !errors.Is(err, ErrInvalidCookie) {
					t.Fatalf("%v: Decode error %v does not match ErrInvalidCookie", format, err)
				}
				continue
			}
			v2, err := m.Encode(values)
			if errors.Is(err, ErrCookieTooLarge) {
				continue
			}
			if err != nil {
				t.Fatalf("%v: Decode accepted %q, but its values do not encode: %v", format, value, err)
			}
			again, err := m.Decode(context.Background(), v2)
			if err != nil {
				t.Fatalf("%v: re-encoded values rejected: %v", format, err)
			}
			if !reflect.DeepEqual(values, again) {
				t.Fatalf("%v: values changed through re-encoding:\n first %#v\n again %#v", format, values, again)
			}
		}
	})
}

// FuzzMiddlewareHeader sends arbitrary Cookie headers through the
// middleware (cookie mode in every format, and store mode): no panic, never
// a 500, and the handler always gets a session.
func FuzzMiddlewareHeader(f *testing.F) {
	seeds := secFuzzSeeds(f)
	for _, s := range seeds {
		f.Add("session=" + s)
		f.Add(`a=1; session="` + s + `"; session=x`)
	}
	for _, s := range []string{"", "session", "session=", `session=""`, "session=;session=;session=;session=;session=", "=; ;;", "session=\x00", "session=\xff\xfe", "SESSION=x; session =y"} {
		f.Add(s)
	}
	var errs []error
	handlerErr := func(w http.ResponseWriter, r *http.Request, err error) {
		errs = append(errs, err)
		http.Error(w, "error", http.StatusInternalServerError)
	}
	var ms []*Middleware
	for _, format := range secFormats {
		ms = append(ms, secNew(f, SessionConfig{Format: format, Now: func() time.Time { return secT0 }, ErrorHandler: handlerErr}))
	}
	ms = append(ms, secNew(f, SessionConfig{Store: newSecMapStore(), Now: func() time.Time { return secT0 }, ErrorHandler: handlerErr}))
	f.Fuzz(func(t *testing.T, header string) {
		for i, m := range ms {
			errs = nil
			called := false
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				s, err := GetSession(r.Context())
				if err != nil || s == nil {
					t.Fatalf("middleware %d: GetSession = %v, %v", i, s, err)
				}
				for _, k := range s.Keys() {
					s.Get(k)
				}
				s.UserID()
				s.Flashes()
				if m.cfg.Store == nil {
					s.Set("seen", len(header))
				}
			})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Cookie"] = []string{header}
			w := httptest.NewRecorder()
			m.Handler(h).ServeHTTP(w, r)
			if !called || w.Code == http.StatusInternalServerError || len(errs) > 0 {
				t.Fatalf("middleware %d, Cookie %q: called %v, status %d, errors %v", i, header, called, w.Code, errs)
			}
			for _, line := range w.Result().Header.Values("Set-Cookie") {
				if _, err := http.ParseSetCookie(line); err != nil {
					t.Fatalf("middleware %d: unparsable Set-Cookie %q: %v", i, line, err)
				}
			}
		}
	})
}

// FuzzConfig tries arbitrary cookie attributes: New either refuses them
// (an error matching ErrInvalidConfig) or the Set-Cookie line it writes
// reads back, through http.ParseSetCookie, exactly as configured.
func FuzzConfig(f *testing.F) {
	f.Add("session", "/", "", 0, false, false)
	f.Add("__Host-session", "/", "", int(http.SameSiteStrictMode), true, false)
	f.Add("__host-sid", "/", "example.test", 0, true, false)
	f.Add("__Secure-sid", "/app", ".example.test", int(http.SameSiteNoneMode), true, true)
	f.Add("sid", "/a;b", "example.test", int(http.SameSiteLaxMode), false, false)
	f.Add("s id", "/", "ex ample.test", 0, false, false)
	f.Add("sid\r\n", "/\r\nX: y", "example.test\n", 0, false, false)
	f.Add("sid", "/", "", int(http.SameSiteNoneMode), false, false)
	f.Add("sid", "/", "", int(http.SameSiteDefaultMode), false, true)
	f.Add("sid", "relative", "xn--bcher-kva.example", 7, true, false)
	f.Fuzz(func(t *testing.T, name, path, domain string, sameSite int, secure, partitioned bool) {
		cfg := SessionConfig{
			SecretKey: secKey, CookieName: name, Path: path, Domain: domain,
			SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned,
			Now: func() time.Time { return secT0 },
		}
		m, err := New(cfg)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New error %v does not match ErrInvalidConfig", err)
			}
			return
		}
		want := http.Cookie{Name: name, Path: path, Domain: strings.TrimPrefix(domain, "."), SameSite: http.SameSite(sameSite), Secure: secure, Partitioned: partitioned, HttpOnly: true}
		if want.Name == "" {
			want.Name = DefaultCookieName
		}
		if want.Path == "" {
			want.Path = "/"
		}
		switch want.SameSite {
		case 0:
			want.SameSite = http.SameSiteLaxMode
		case http.SameSiteDefaultMode:
			want.SameSite = 0 // written as no attribute
		}
		if hasPrefixFold(want.Name, "__Host-") && (!secure || want.Path != "/" || domain != "") {
			t.Fatalf("New accepted a __Host- cookie with Secure %v, Path %q, Domain %q", secure, want.Path, domain)
		}
		if hasPrefixFold(want.Name, "__Secure-") && !secure {
			t.Fatal("New accepted a __Secure- cookie without Secure")
		}
		if want.SameSite == http.SameSiteNoneMode && !secure {
			t.Fatal("New accepted SameSite=None without Secure")
		}

		w := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := GetSession(r.Context())
			s.Set("k", "v")
		})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		lines := w.Result().Header.Values("Set-Cookie")
		if len(lines) != 1 {
			t.Fatalf("Set-Cookie lines %q, want one", lines)
		}
		if strings.ContainsAny(lines[0], "\r\n\x00") {
			t.Fatalf("Set-Cookie %q holds a control character", lines[0])
		}
		got, err := http.ParseSetCookie(lines[0])
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", lines[0], err)
		}
		if got.Name != want.Name || got.Path != want.Path || got.Domain != want.Domain ||
			got.SameSite != want.SameSite || got.Secure != want.Secure ||
			got.Partitioned != want.Partitioned || got.HttpOnly != want.HttpOnly {
			t.Fatalf("Set-Cookie %q reads back as\n %+v\nwant\n %+v", lines[0], got, want)
		}
		if got.String() != lines[0] {
			t.Fatalf("Set-Cookie %q does not survive a round trip: %q", lines[0], got.String())
		}
		if vals, err := m.Decode(context.Background(), got.Value); err != nil || vals["k"] != "v" {
			t.Fatalf("the written value does not decode: %v, %v", vals, err)
		}
	})
}
