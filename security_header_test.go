package sessions

import (
	"fmt"
	"strings"
	"testing"
)

// Cookie header games. The rule (SECURITY.md): cookies of the session's name
// are tried in the order the browser sent them, across Cookie header lines,
// and the first that verifies wins; at most maxCandidates of them are tried.

func TestSecurityHeaderDuplicateNames(t *testing.T) {
	m := secNew(t, SessionConfig{})
	alice := secIssue(t, m, "alice", nil)
	bob := secIssue(t, m, "bob", nil)
	forged := secReplaceAt(alice, 3, alice[3]^1)
	cases := []struct {
		name  string
		lines []string
		want  string
	}{
		{"first valid wins", []string{"session=" + alice + "; session=" + bob}, "alice"},
		{"order decides", []string{"session=" + bob + "; session=" + alice}, "bob"},
		{"invalid first is skipped", []string{"session=" + forged + "; session=" + alice}, "alice"},
		{"invalid last is ignored", []string{"session=" + alice + "; session=" + forged}, "alice"},
		{"empty value is skipped", []string{"session=; session=" + bob}, "bob"},
		{"across header lines", []string{"session=" + bob, "session=" + alice}, "bob"},
		{"invalid line first", []string{"session=" + forged, "session=" + alice}, "alice"},
		{"all invalid", []string{"session=" + forged + "; session=x"}, ""},
		{
			fmt.Sprintf("%d invalid before a valid one", maxCandidates-1),
			[]string{strings.Repeat("session=x; ", maxCandidates-1) + "session=" + alice}, "alice",
		},
		{
			// The bound on work per request: later cookies are not tried.
			fmt.Sprintf("%d invalid before a valid one", maxCandidates),
			[]string{strings.Repeat("session=x; ", maxCandidates) + "session=" + alice}, "",
		},
	}
	for _, c := range cases {
		if got := secLoad(t, m, c.lines...).UserID; got != c.want {
			t.Errorf("%s: user %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSecurityHeaderSeveralLines(t *testing.T) {
	m := secNew(t, SessionConfig{})
	alice := secIssue(t, m, "alice", nil)
	cases := [][]string{
		{"a=1", "session=" + alice},
		{"a=1; b=2", "c=3", "session=" + alice + "; d=4"},
		{"", "session=" + alice},
		{";;;", " session=" + alice + " "},
		{"session", "session=" + alice},
	}
	for i, lines := range cases {
		if got := secLoad(t, m, lines...).UserID; got != "alice" {
			t.Errorf("case %d %q: user %q, want alice", i, lines, got)
		}
	}
}

func TestSecurityHeaderThousandsOfJunkCookies(t *testing.T) {
	m := secNew(t, SessionConfig{})
	alice := secIssue(t, m, "alice", nil)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "junk%d=%s; ", i, strings.Repeat("x", i%50))
		if i%100 == 0 {
			b.WriteString("novalue; =noname; ; ")
		}
	}
	junk := b.String()
	if got := secLoad(t, m, junk+"session="+alice).UserID; got != "alice" {
		t.Errorf("after %d bytes of junk cookies: user %q, want alice", len(junk), got)
	}
	lines := strings.Split(strings.TrimSuffix(junk, "; "), "; ")
	if got := secLoad(t, m, append(lines, "session="+alice)...).UserID; got != "alice" {
		t.Errorf("after %d junk header lines: user %q, want alice", len(lines), got)
	}
	// Junk alone: an empty session, no cookie set.
	var seen secSeen
	w := secServe(m, secProbe(&seen, nil), junk)
	if seen.Err != nil || len(seen.Values) != 0 {
		t.Errorf("junk only: %+v", seen)
	}
	if _, ok := secSetCookie(t, w, "session"); ok {
		t.Error("junk only: a session cookie was set")
	}
}

// Cookies whose names look like the session's are other cookies, even when
// their value is a valid session cookie.
func TestSecurityHeaderLookAlikeNames(t *testing.T) {
	m := secNew(t, SessionConfig{})
	alice := secIssue(t, m, "alice", nil)
	for _, name := range []string{"xsession", "session_", "sessio", "sessionsession", "SESSION", "Session", "session ", "session\t", "se ssion", "session.", `"session"`, "session%3D", "_session"} {
		line := name + "=" + alice
		if got := secLoad(t, m, line).UserID; got != "" {
			t.Errorf("Cookie: %q: user %q, want none", line, got)
		}
	}
	// A value that itself starts with "session=" is not our cookie either.
	if got := secLoad(t, m, "other=session="+alice).UserID; got != "" {
		t.Errorf("cookie value containing session=: user %q, want none", got)
	}
	// Leading white space is part of the separator, not of the name.
	if got := secLoad(t, m, "a=1;  session="+alice).UserID; got != "alice" {
		t.Errorf("after '; ': user %q, want alice", got)
	}

	// The same with a __Host- name: "__host-session" is another cookie.
	hm := secNew(t, SessionConfig{CookieName: "__Host-session", Secure: true})
	hv := secIssue(t, hm, "alice", nil)
	for _, name := range []string{"__host-session", "__Host-Session", "__Host-session_", "session"} {
		if got := secLoad(t, hm, name+"="+hv).UserID; got != "" {
			t.Errorf("Cookie: %s=...: user %q, want none", name, got)
		}
	}
	if got := secLoad(t, hm, "__Host-session="+hv).UserID; got != "alice" {
		t.Errorf("__Host-session: user %q, want alice", got)
	}
}
