package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	sessions "github.com/ctxsession/sessions"
)

// storeMiddleware is middleware in store mode with store, its rejection
// reasons (logged at debug level) kept in reason.
func storeMiddleware(o options, e env, store sessions.Store, reason *error) (*sessions.Middleware, error) {
	if o.key == "" {
		o.key = e.getenv("SESSION_SECRET_KEY")
	}
	if o.key == "" {
		return nil, usageError{"no key: give --key or set SESSION_SECRET_KEY"}
	}
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey:    o.key,
		FallbackKeys: o.fallbacks,
		CookieName:   o.name,
		MaxAge:       o.maxAge,
		Now:          e.now,
		Store:        store,
		Logger:       slog.New(reasonHandler{reason}),
	})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return m, nil
}

// probeStore is a Store that holds nothing and records whether the
// middleware looked a session up, which it does only for an id whose
// signature and age it verified.
type probeStore struct{ looked bool }

func (p *probeStore) Find(context.Context, string) (sessions.Record, bool, error) {
	p.looked = true
	return sessions.Record{}, false, nil
}

func (*probeStore) Create(context.Context, sessions.Record) error { return errors.ErrUnsupported }

func (*probeStore) Update(context.Context, sessions.Record) (bool, error) {
	return false, errors.ErrUnsupported
}

func (*probeStore) Delete(context.Context, string) error { return nil }

// reasonHandler is a slog.Handler that keeps the "reason" of the
// middleware's debug message about a rejected cookie.
type reasonHandler struct{ reason *error }

func (reasonHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h reasonHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "reason" {
			if err, ok := a.Value.Any().(error); ok {
				*h.reason = err
			}
		}
		return true
	})
	return nil
}

func (h reasonHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h reasonHandler) WithGroup(string) slog.Handler { return h }

func verify(args []string, e env) error {
	o, arg, err := parse("verify", args, true)
	if err != nil {
		return err
	}
	value := cookieValue(arg, o.name)
	if !o.nameSet {
		// A cookie pasted as NAME=VALUE under a common name names itself.
		for _, n := range commonNames {
			if v, ok := strings.CutPrefix(strings.TrimSpace(arg), n+"="); ok && n != o.name {
				value, o.name = cookieValue(v, n), n
			}
		}
	}
	how := "given"
	if o.format == "" {
		in, err := inspect(value, "")
		if err != nil {
			return fmt.Errorf("invalid cookie: %w (give --format if it is one)", err)
		}
		if in.StoreID {
			return verifyStoreID(o, value, e)
		}
		o.format, how = in.Format.String(), "detected: "+in.Guess
	}
	m, err := middleware(o, e)
	if err != nil {
		return err
	}
	values, err := m.Decode(context.Background(), value)
	if err != nil && how != "given" {
		// Some shapes fit two formats (a Flask payload without padding
		// reads as Starlette's): one that verifies settles it.
		for _, f := range formatNames() {
			alt := o
			alt.format = f
			if am, aerr := middleware(alt, e); f != o.format && aerr == nil {
				if v, derr := am.Decode(context.Background(), value); derr == nil {
					o.format, how, values, err = f, "the only format that verifies", v, nil
					break
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("invalid cookie: %w%s", err, likelyCause(o, value, err, e, true))
	}
	w := e.stdout
	fmt.Fprintf(w, "verified: YES (format %s, %s; cookie name %q)\n", o.format, how, o.name)
	if in, err := inspect(value, o.format); err == nil {
		printTimes(w, in, e.now())
		printUser(w, in)
	}
	out, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		return fmt.Errorf("printing values: %w", err)
	}
	fmt.Fprintf(w, "values:\n%s\n", out)
	return nil
}

// likelyCause says why a cookie that verify rejected was probably
// rejected, when another configuration accepts it: another format, the
// cookie name, or else most likely the key. It returns "" when it has
// nothing to add, and otherwise text to append to the error.
// tryStoreID also tries the value as a server-side session id.
func likelyCause(o options, value string, err error, e env, tryStoreID bool) string {
	if !errors.Is(err, sessions.ErrBadSignature) && !errors.Is(err, sessions.ErrMalformed) {
		return ""
	}
	accepts := func(o options) bool {
		if o.format == "" { // a server-side session id
			ok, _, err := checkStoreID(o, value, e)
			return err == nil && ok
		}
		m, err := middleware(o, e)
		if err != nil {
			return false
		}
		_, err = m.Decode(context.Background(), value)
		return err == nil
	}
	for _, f := range formatNames() {
		alt := o
		alt.format = f
		if f != o.format && o.format != "" && accepts(alt) {
			return fmt.Sprintf("; likely cause: it is a %s cookie, not %s (--format %s)", f, o.format, f)
		}
	}
	if in, ierr := inspect(value, ""); tryStoreID && ierr == nil && in.StoreID {
		if ok, _, err := checkStoreID(o, value, e); err == nil && ok {
			return "; likely cause: it is a server-side session id (verify it without --format)"
		}
	}
	if !errors.Is(err, sessions.ErrBadSignature) {
		return ""
	}
	f, _ := libFormat(o.format) // "" (a session id) is the default format's signer
	if f == sessions.FormatItsdangerous || f == sessions.FormatEncrypted {
		for _, n := range append(slices.Clone(commonNames), "remember_token") {
			alt := o
			alt.name = n
			if n != o.name && accepts(alt) {
				return fmt.Sprintf("; likely cause: the cookie name: it verifies as %q, not %q (--name %s)", n, o.name, n)
			}
		}
		what := "format " + o.format
		if o.format == "" {
			what = "a server-side session id"
		}
		return fmt.Sprintf("; likely cause: a wrong key, or the cookie name: %s is signed with the cookie's name (checked as %q; give --name)", what, o.name)
	}
	return fmt.Sprintf("; likely cause: a wrong key (it verifies under no format with this key; format %s does not sign the cookie name); after a key rotation give the old key with --fallback", o.format)
}

// verifyStoreID checks a server-side session id as the middleware in store
// mode does (signature, cookie name, MaxAge, clock), through a store that
// records the lookup the middleware makes once the id is verified. The
// data is on the server: only the id can be checked here.
func verifyStoreID(o options, value string, e env) error {
	ok, reason, err := checkStoreID(o, value, e)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("invalid cookie: not a valid session id for this key and cookie name %q: %w%s", o.name, reason, likelyCause(o, value, reason, e, false))
	}
	w := e.stdout
	fmt.Fprintf(w, "verified: YES - a valid session id (the data is on the server; cookie name %q)\n", o.name)
	if in, err := inspect(value, ""); err == nil {
		printTimes(w, in, e.now())
	}
	fmt.Fprintf(w, "note:     its data, user included, is in the store of the server that issued it\n")
	return nil
}

// checkStoreID reports whether value is a session id the middleware in
// store mode accepts under o, and why not when it is not.
func checkStoreID(o options, value string, e env) (bool, error, error) {
	probe := &probeStore{}
	var reason error
	m, err := storeMiddleware(o, e, probe, &reason)
	if err != nil {
		return false, nil, err
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: o.name, Value: value})
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.GetSession(r.Context())
	})).ServeHTTP(discardResponse{http.Header{}}, req)
	if !probe.looked && reason == nil {
		reason = errors.New("rejected")
	}
	return probe.looked, reason, nil
}
