package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ctxsession/sessions"
)

//go:embed page.html
var pageHTML string

// maxName is the longest user name the login form accepts, in characters.
const maxName = 64

// app is the demo's web application.
type app struct {
	m      *sessions.Middleware
	cookie string // the session cookie's name
	mode   string // how sessions are kept, for the page footer
	format string
	store  bool // server-side sessions: "log out everywhere" is offered
	tmpl   *template.Template
}

func newApp(m *sessions.Middleware, cookie, mode, format string, store bool) *app {
	return &app{
		m:      m,
		cookie: cookie,
		mode:   mode,
		format: format,
		store:  store,
		tmpl:   template.Must(template.New("page").Parse(pageHTML)),
	}
}

// handler returns the application with its sessions. Cross-origin POSTs
// (a login or logout forged by another site) are refused by
// http.CrossOriginProtection.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /counter", a.counter)
	mux.HandleFunc("GET /session", a.session)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /logout-everywhere", a.logoutEverywhere)
	mux.HandleFunc("GET /sessions", a.sessions)
	mux.HandleFunc("POST /sessions/end", a.endSession)
	return http.NewCrossOriginProtection().Handler(a.m.Handler(mux))
}

// page is what the template shows.
type page struct {
	Title        string
	User         string
	Flashes      []sessions.Flash
	Mode, Format string
	Store        bool
	MaxName      int
	Visits       int
	Created      time.Time
	Values       string
	Cookie       string
	UserSessions int  // the user's live sessions (store mode, logged in)
	Encrypted    bool // the cookie format hides the values
	Devices      []sessions.SessionInfo
}

// render writes the page; the flashes are shown (and so removed) here.
func (a *app) render(w http.ResponseWriter, r *http.Request, p page) {
	s, err := sessions.GetSession(r.Context())
	if err != nil {
		return // the middleware's error handler answers
	}
	p.User = s.UserID()
	p.Flashes = s.Flashes()
	p.Mode, p.Format, p.Store, p.MaxName = a.mode, a.format, a.store, maxName
	p.Encrypted = a.format == sessions.FormatEncrypted.String()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := a.tmpl.ExecuteTemplate(w, "layout", p); err != nil {
		// The headers are gone (usually the client went away).
		slog.DebugContext(r.Context(), "sessiondemo: writing page", "err", err)
	}
}

// fail answers a request whose login or logout failed. (When the session
// itself could not be loaded, the middleware's error handler replaces this
// response with its own.)
func fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	slog.ErrorContext(r.Context(), "sessiondemo: "+what, "err", err)
	http.Error(w, what+" failed; please try again", http.StatusInternalServerError)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, page{Title: "Home"})
}

func (a *app) counter(w http.ResponseWriter, r *http.Request) {
	s, err := sessions.GetSession(r.Context())
	if err != nil {
		return
	}
	n, _ := sessions.GetAs[int](s, "visits")
	n++
	s.Set("visits", n)
	a.render(w, r, page{Title: "Counter", Visits: n})
}

func (a *app) session(w http.ResponseWriter, r *http.Request) {
	s, err := sessions.GetSession(r.Context())
	if err != nil {
		return
	}
	values := make(map[string]any, s.Len())
	for _, k := range s.Keys() {
		values[k], _ = s.Get(k)
	}
	js, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		js = []byte(err.Error())
	}
	p := page{Title: "Session", Created: s.Created(), Values: string(js)}
	if c, err := r.Cookie(a.cookie); err == nil {
		p.Cookie = c.Value
	}
	if user := s.UserID(); a.store && user != "" {
		if ids, err := a.m.UserSessions(r.Context(), user); err == nil {
			p.UserSessions = len(ids)
		}
	}
	a.render(w, r, p)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("name"))
	s, err := sessions.GetSession(ctx)
	if err != nil {
		return
	}
	switch {
	case name == "":
		s.AddFlash("error", "Please enter a name.")
	case !utf8.ValidString(name):
		s.AddFlash("error", "That name is not valid text.")
	case utf8.RuneCountInString(name) > maxName:
		s.AddFlash("error", "That name is too long.")
	default:
		if err := sessions.Login(ctx, name); err != nil {
			fail(w, r, "login", err)
			return
		}
		// "Keep me signed in": a cookie that outlives the browser; without
		// it, one the browser drops when it closes.
		if err := sessions.RememberMe(ctx, r.PostFormValue("remember") == "on"); err != nil {
			fail(w, r, "login", err)
			return
		}
		s.AddFlash("info", "Welcome, "+name+"! You are logged in.")
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := sessions.Logout(ctx); err != nil {
		fail(w, r, "logout", err)
		return
	}
	// The flash starts a new anonymous session; showing it on the next
	// page empties that session, and the cookie is deleted.
	if s, err := sessions.GetSession(ctx); err == nil {
		s.AddFlash("info", "You are logged out.")
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user, ok := sessions.UserID(ctx)
	if !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	msg := "You are logged out on every device."
	if err := a.m.DestroyUser(ctx, user); err != nil {
		slog.ErrorContext(ctx, "sessiondemo: log out everywhere", "err", err)
		msg = "You are logged out here, but your other sessions could not be ended."
		if errors.Is(err, sessions.ErrNotSupported) {
			msg = "You are logged out here; this configuration cannot end other sessions."
		}
	}
	if err := sessions.Logout(ctx); err != nil {
		fail(w, r, "logout", err)
		return
	}
	if s, err := sessions.GetSession(ctx); err == nil {
		s.AddFlash("info", msg)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sessions lists the user's sessions ("your devices"), store mode only.
func (a *app) sessions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user, ok := sessions.UserID(ctx)
	if !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p := page{Title: "Your sessions"}
	if a.store {
		infos, err := a.m.UserSessions(ctx, user)
		if err != nil {
			fail(w, r, "listing sessions", err)
			return
		}
		p.Devices = infos
	}
	a.render(w, r, p)
}

// endSession ends one of the user's other sessions.
func (a *app) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, err := sessions.GetSession(ctx)
	if err != nil {
		return
	}
	user := s.UserID()
	if user == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	id := r.PostFormValue("id")
	switch err := a.m.DestroySession(ctx, user, id); {
	case err == nil:
		s.AddFlash("info", "That session has been ended.")
	case errors.Is(err, sessions.ErrNoSuchSession):
		s.AddFlash("error", "That session had already ended.")
	default:
		slog.ErrorContext(ctx, "sessiondemo: end session", "err", err)
		s.AddFlash("error", "That session could not be ended; please try again.")
	}
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}
