package sessions_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	sessions "github.com/ctxsession/sessions"
)

// Store mode against the real stores (memstore and filestore). The store
// is wrapped only to record which ids the middleware created, so that the
// tests can list them; every call goes through to the real store.

// Session fixation in cookie mode: an attacker plants their own anonymous
// cookie; the victim logs in with it. The planted cookie stays anonymous:
// the login is in the new cookie only.
func TestSecurityCookieModeLoginFixation(t *testing.T) {
	m, err := sessions.New(sessions.SessionConfig{SecretKey: sxKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	planted := sxDo(t, m, "", func(_ *http.Request, s *sessions.Session) { s.Set("attacker", true) })
	victim := sxLogin(t, m, planted, "alice")
	if victim == planted {
		t.Fatal("Login kept the planted cookie")
	}
	if u := sxUser(t, m, planted); u != "" {
		t.Errorf("planted cookie after the victim's login: user %q, want none", u)
	}
	var kept any
	sxDo(t, m, victim, func(_ *http.Request, s *sessions.Session) { kept, _ = s.Get("attacker") })
	if kept != nil {
		t.Errorf("the planted session's data survived Login: %v", kept)
	}
}
