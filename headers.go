package sessions

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// cookieValues appends to dst up to max values of the cookies called name,
// in the order the browser sent them, without parsing the others.
// Surrounding double quotes are removed, as net/http does.
func cookieValues(dst []string, h http.Header, name string, max int) []string {
	out, n := dst, len(dst)
	for _, line := range h["Cookie"] {
		for len(line) > 0 && len(out)-n < max {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t")
			rest, ok := strings.CutPrefix(part, name)
			if !ok || len(rest) == 0 || rest[0] != '=' {
				continue
			}
			v := strings.TrimRight(rest[1:], " \t")
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// hasCookie reports whether a Cookie header may hold a cookie called name.
// It errs towards yes: it is only used to decide on Vary: Cookie.
func hasCookie(h http.Header, name string) bool {
	for _, line := range h["Cookie"] {
		if i := strings.Index(line, name); i >= 0 && strings.Contains(line[i+len(name):], "=") {
			return true
		}
	}
	return false
}

// sessionCookie returns the Set-Cookie line of the session cookie with
// value and maxAge (0: none), exactly as http.Cookie.String writes it.
func (m *Middleware) sessionCookie(value string, maxAge int) string {
	if line := m.cookieLine.format(value, maxAge); line != "" {
		return line
	}
	c := m.cookieTmpl
	c.Value, c.MaxAge = value, maxAge
	return c.String()
}

// cookieLine is a Set-Cookie line made once by http.Cookie.String, cut
// around the value and the Max-Age number, so that a line for a value that
// needs no sanitizing or quoting is one concatenation.
type cookieLine struct {
	ok        bool
	pre       string // "name="
	mid, post string // the attributes before and after the Max-Age number
	maxAge    bool   // the line has Max-Age
}

const cookieLineMarker = "; Max-Age=987654321"

func newCookieLine(tmpl http.Cookie, withMaxAge bool) cookieLine {
	tmpl.Value, tmpl.MaxAge = "v", 0
	if withMaxAge {
		tmpl.MaxAge = 987654321
	}
	pre := tmpl.Name + "="
	rest, ok := strings.CutPrefix(tmpl.String(), pre+"v")
	if !ok {
		return cookieLine{}
	}
	if !withMaxAge {
		return cookieLine{ok: true, pre: pre, post: rest}
	}
	mid, post, ok := strings.Cut(rest, cookieLineMarker)
	if !ok {
		return cookieLine{}
	}
	return cookieLine{ok: true, pre: pre, mid: mid + "; Max-Age=", post: post, maxAge: true}
}

// format returns the line, or "" when it cannot be made from the parts:
// value is empty or holds a byte other than base64url's and '.', or
// maxAge does not match the parts.
func (l *cookieLine) format(value string, maxAge int) string {
	if !l.ok || value == "" || l.maxAge != (maxAge > 0) {
		return ""
	}
	for i := 0; i < len(value); i++ {
		if !plainCookieByte[value[i]] {
			return ""
		}
	}
	var num [20]byte
	n := num[:0]
	if l.maxAge {
		n = strconv.AppendInt(n, int64(maxAge), 10)
	}
	var b strings.Builder
	b.Grow(len(l.pre) + len(value) + len(l.mid) + len(n) + len(l.post))
	b.WriteString(l.pre)
	b.WriteString(value)
	b.WriteString(l.mid)
	b.Write(n)
	b.WriteString(l.post)
	return b.String()
}

// plainCookieByte holds the bytes of base64url and '.', which a cookie
// value holds as they are.
var plainCookieByte = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()

func (m *Middleware) deletionCookie() string {
	c := m.cookieTmpl
	c.MaxAge = -1
	return c.String()
}

// setCookie adds line as the response's session cookie, replacing one this
// state added before (an explicit Commit followed by more changes).
func (st *requestState) setCookie(line string) {
	h := st.w.Header()
	if st.sentCookie != "" {
		if i := slices.Index(h["Set-Cookie"], st.sentCookie); i >= 0 {
			h["Set-Cookie"] = slices.Delete(h["Set-Cookie"], i, i+1)
		}
	}
	st.guardCacheControl(h)
	st.addHeader(h, "Set-Cookie", line, 2)
	st.sentCookie = line
}

// Cache-Control directives of a response that sets the session cookie.
const (
	cacheNoCacheCookie = `no-cache="Set-Cookie"`
	cachePrivate       = "private"
)

// guardCacheControl makes the Cache-Control of a response carrying our
// Set-Cookie one that no shared cache may store the cookie under: with no
// Cache-Control it adds no-cache="Set-Cookie"; when the handler set one,
// "public" becomes "private", "private" is added unless "private" or
// "no-store" is there, and no-cache="Set-Cookie" is added unless there.
// It runs when the cookie is set and again just before the headers go out.
func (st *requestState) guardCacheControl(h http.Header) {
	lines := h["Cache-Control"]
	if len(lines) == 0 {
		st.addHeader(h, "Cache-Control", cacheNoCacheCookie, 1)
		return
	}
	safe, ours, others := false, false, false
	for i, line := range lines {
		public := false
		for d := range directives(line) {
			if d == cacheNoCacheCookie {
				ours = true
				continue
			}
			others = true
			switch name, _, _ := strings.Cut(d, "="); {
			case strings.EqualFold(name, "public"):
				public = true
			case strings.EqualFold(name, "private"), strings.EqualFold(name, "no-store"):
				safe = true
			}
		}
		if public {
			lines[i] = publicToPrivate(line)
			safe = true
		}
	}
	switch {
	case !others:
		// Only ours: what this function added, or nothing at all.
		if !ours {
			h["Cache-Control"] = append(lines, cacheNoCacheCookie)
		}
	case !safe && !ours:
		h["Cache-Control"] = append(lines, cachePrivate+", "+cacheNoCacheCookie)
	case !safe:
		h["Cache-Control"] = append(lines, cachePrivate)
	case !ours:
		h["Cache-Control"] = append(lines, cacheNoCacheCookie)
	}
}

// directives yields the comma-separated directives of a Cache-Control
// line, trimmed; a comma inside a quoted string does not separate.
func directives(line string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start, quoted := 0, false
		for i := 0; i <= len(line); i++ {
			if i < len(line) {
				switch c := line[i]; {
				case c == '"':
					quoted = !quoted
					continue
				case c == '\\' && quoted:
					i++
					continue
				case c != ',' || quoted:
					continue
				}
			}
			if d := strings.TrimSpace(line[start:i]); d != "" && !yield(d) {
				return
			}
			start = i + 1
		}
	}
}

// publicToPrivate returns line with each "public" directive replaced by
// "private".
func publicToPrivate(line string) string {
	var b strings.Builder
	for d := range directives(line) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if name, _, _ := strings.Cut(d, "="); strings.EqualFold(name, "public") {
			d = cachePrivate
		}
		b.WriteString(d)
	}
	return b.String()
}

func (st *requestState) addVary(h http.Header) {
	for _, v := range h["Vary"] {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); strings.EqualFold(f, "Cookie") || f == "*" {
				return
			}
		}
	}
	st.addHeader(h, "Vary", "Cookie", 0)
}

// addHeader is h.Add(key, value) for a canonical key. When key has no
// value yet, the value goes into the state's storage slot instead of a
// new slice.
func (st *requestState) addHeader(h http.Header, key, value string, slot int) {
	if len(h[key]) > 0 {
		h[key] = append(h[key], value)
		return
	}
	st.hdr[slot] = value
	h[key] = st.hdr[slot : slot+1 : slot+1]
}
