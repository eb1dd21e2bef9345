// Command sessionctl inspects, verifies and mints ctxsession cookies.
//
//	sessionctl keygen
//	sessionctl decode [--format F] COOKIE
//	sessionctl verify --key K [--fallback K2 ...] [--format F] [--name N] [--max-age D] COOKIE
//	sessionctl sign --key K [--format F] [--name N] [--user ID [--remote-addr A] [--user-agent UA]] JSON
//
// decode reads a cookie without its key and says so: what it prints is NOT
// verified. verify detects the format as decode does (or takes --format),
// checks the signature (or decrypts) exactly as the middleware would, and
// exits 1 with the reason, and its likely cause, when the cookie is
// rejected; a server-side session id is reported as such. sign prints a
// cookie value holding the given JSON object, logged in as --user when
// given. The key can
// also come from the SESSION_SECRET_KEY environment variable. COOKIE may be
// given as NAME=VALUE, as copied from a Cookie header. Errors are one line on
// stderr and a non-zero exit status (2 for a usage error).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	sessions "github.com/ctxsession/sessions"
)

// usage is the help text.
func usage() string {
	return "usage:\n  " + usageOf("keygen") + "\n  " + usageOf("decode") + "\n  " + usageOf("verify") + "\n  " +
		usageOf("sign") + "\nformats: " + formatList() + "\nthe key defaults to $SESSION_SECRET_KEY"
}

// usageOf returns the synopsis of a command.
func usageOf(cmd string) string {
	switch cmd {
	case "decode":
		return "sessionctl decode [--format F] COOKIE"
	case "verify":
		return "sessionctl verify --key K [--fallback K2 ...] [--format F] [--name N] [--max-age D] COOKIE"
	case "sign":
		return "sessionctl sign --key K [--format F] [--name N] [--user ID [--remote-addr A] [--user-agent UA]] JSON"
	}
	return "sessionctl keygen"
}

func main() {
	os.Exit(run(os.Args[1:], env{
		stdout: os.Stdout,
		stderr: os.Stderr,
		now:    time.Now,
		getenv: os.Getenv,
	}))
}

// env is what a run of the command sees of the outside world.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	getenv         func(string) string
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run executes one command line and returns the exit status.
func run(args []string, e env) int {
	err := dispatch(args, e)
	if err == nil {
		return 0
	}
	fmt.Fprintf(e.stderr, "sessionctl: %s\n", oneLine(err.Error()))
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func dispatch(args []string, e env) error {
	if len(args) == 0 {
		return usageError{"no command (keygen, decode, verify, sign); try sessionctl help"}
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprintln(e.stdout, usage())
		return nil
	case "keygen":
		return keygen(args[1:], e)
	case "decode":
		return decode(args[1:], e)
	case "verify":
		return verify(args[1:], e)
	case "sign":
		return sign(args[1:], e)
	}
	return usageError{fmt.Sprintf("unknown command %q (keygen, decode, verify, sign)", args[0])}
}

// keygen prints 32 random bytes as base64url: 256 bits, 43 characters,
// above sessions.MinKeyLength.
func keygen(args []string, e env) error {
	if len(args) > 0 {
		return usageError{"keygen takes no arguments"}
	}
	var b [32]byte
	rand.Read(b[:])
	fmt.Fprintln(e.stdout, base64.RawURLEncoding.EncodeToString(b[:]))
	return nil
}

// options are the flags of decode, verify and sign.
type options struct {
	key       string
	fallbacks []string
	format    string
	name      string
	nameSet   bool // --name was given
	maxAge    time.Duration
	user      string // sign --user
	remote    string // sign --remote-addr
	userAgent string // sign --user-agent
	uaSet     bool   // --user-agent was given (an empty one is a header too)
}

type listFlag struct{ list *[]string }

func (l listFlag) String() string     { return "" }
func (l listFlag) Set(v string) error { *l.list = append(*l.list, v); return nil }

// parse reads flags and exactly one positional argument, in any order.
func parse(cmd string, args []string, withKey bool) (options, string, error) {
	o := options{name: sessions.DefaultCookieName}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.format, "format", "", "")
	if withKey {
		fs.StringVar(&o.key, "key", "", "")
		fs.Var(listFlag{&o.fallbacks}, "fallback", "")
		fs.StringVar(&o.name, "name", o.name, "")
		if cmd == "verify" {
			fs.DurationVar(&o.maxAge, "max-age", 0, "")
		}
		if cmd == "sign" {
			fs.StringVar(&o.user, "user", "", "")
			fs.StringVar(&o.remote, "remote-addr", "", "")
			fs.StringVar(&o.userAgent, "user-agent", "", "")
		}
	}
	var pos []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			pos, args = append(pos, args[1:]...), nil
		case isFlag(fs, a):
			n := min(2, len(args)) // the flag and its value
			if strings.Contains(a, "=") {
				n = 1
			}
			if err := fs.Parse(args[:n]); errors.Is(err, flag.ErrHelp) {
				return o, "", usageError{"usage: " + usageOf(cmd)}
			} else if err != nil {
				return o, "", usageError{cmd + ": " + err.Error()}
			}
			args = args[n:]
		default:
			pos, args = append(pos, a), args[1:]
		}
	}
	what := "COOKIE"
	if cmd == "sign" {
		what = "JSON"
	}
	if len(pos) != 1 {
		return o, "", usageError{fmt.Sprintf("%s takes one %s argument, got %d", cmd, what, len(pos))}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			o.nameSet = true
		case "user-agent":
			o.uaSet = true
		}
	})
	o.format = strings.ToLower(strings.TrimSpace(o.format))
	if o.format != "" {
		if _, err := libFormat(o.format); err != nil {
			return o, "", usageError{fmt.Sprintf("unknown format %q (known: %s)", o.format, strings.Join(formatNames(), ", "))}
		}
	}
	return o, pos[0], nil
}

// isFlag reports whether a is a flag: "-name", "--name" or "-name=value"
// where name is one of fs's flags or at least has no '.'. A store-mode
// cookie value can start with '-', but every cookie value has a '.'.
func isFlag(fs *flag.FlagSet, a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return fs.Lookup(name) != nil || !strings.Contains(name, ".")
}

// cookieValue accepts VALUE or NAME=VALUE (as copied from a Cookie header).
func cookieValue(arg, name string) string {
	arg = strings.TrimSpace(arg)
	if v, ok := strings.CutPrefix(arg, name+"="); ok {
		arg = v
	}
	if len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
		arg = arg[1 : len(arg)-1]
	}
	return arg
}

func decode(args []string, e env) error {
	o, arg, err := parse("decode", args, false)
	if err != nil {
		return err
	}
	in, err := inspect(cookieValue(arg, sessions.DefaultCookieName), o.format)
	if err != nil {
		return fmt.Errorf("cannot decode: %w", err)
	}
	w := e.stdout
	how := "given"
	if in.Guess != "" {
		how = "detected: " + in.Guess
	}
	fmt.Fprintf(w, "format:   %s (%s)\n", in.Format, how)
	fmt.Fprintf(w, "verified: NO - the signature was NOT checked; anyone can forge what follows (use sessionctl verify --key ...)\n")
	printDetails(w, in, e.now())
	return nil
}

// printDetails prints the times, user and payload of an inspection.
func printDetails(w io.Writer, in inspection, now time.Time) {
	printTimes(w, in, now)
	if in.Note != "" {
		fmt.Fprintf(w, "note:     %s\n", in.Note)
	}
	if in.Payload == nil {
		return
	}
	printUser(w, in)
	var buf bytes.Buffer
	if json.Indent(&buf, in.Payload, "", "  ") != nil {
		buf.Reset()
		buf.Write(in.Payload)
	}
	fmt.Fprintf(w, "payload:\n%s\n", buf.String())
}

func printTimes(w io.Writer, in inspection, now time.Time) {
	if !in.Issued.IsZero() {
		fmt.Fprintf(w, "issued:   %s (%s)\n", in.Issued.UTC().Format(time.RFC3339), ago(now.Sub(in.Issued)))
	}
	if !in.Expires.IsZero() {
		fmt.Fprintf(w, "expires:  %s\n", in.Expires.UTC().Format(time.RFC3339))
	}
}

// printUser prints the user id the library would take from the payload,
// and the key it reads it from.
func printUser(w io.Writer, in inspection) {
	u := userOf(in.Payload, in.Format)
	switch {
	case u.bad != "":
		fmt.Fprintf(w, "user:     invalid: %s; the library rejects this cookie\n", u.bad)
	case u.id != "":
		fmt.Fprintf(w, "user:     %s (from %s)\n", u.id, u.key)
	}
	if u.sub != "" {
		fmt.Fprintf(w, "sub:      %s (a JWT claim; the library reads the session's user from %s, not sub)\n", u.sub, u.key)
	}
}

// ago describes an age, which is negative for a time in the future.
func ago(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		return (-d).String() + " in the future"
	}
	return "age " + d.String()
}

// middleware builds the library's middleware for verify and sign.
func middleware(o options, e env) (*sessions.Middleware, error) {
	if o.key == "" {
		o.key = e.getenv("SESSION_SECRET_KEY")
	}
	if o.key == "" {
		return nil, usageError{"no key: give --key or set SESSION_SECRET_KEY"}
	}
	f, err := libFormat(o.format)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey:    o.key,
		FallbackKeys: o.fallbacks,
		CookieName:   o.name,
		Format:       f,
		MaxAge:       o.maxAge,
		Now:          e.now,
	})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return m, nil
}

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
func (h reasonHandler) WithGroup(string) slog.Handler      { return h }

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

// commonNames are the session cookie names the frameworks use by default
// (the library's, Flask's, Starlette's and microdot's "session"; Django's
// "sessionid") and the recommended prefixed one.
var commonNames = []string{sessions.DefaultCookieName, "sessionid", "__Host-session"}

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

func sign(args []string, e env) error {
	o, arg, err := parse("sign", args, true)
	if err != nil {
		return err
	}
	if o.user == "" && (o.remote != "" || o.uaSet) {
		return usageError{"--remote-addr and --user-agent go with --user"}
	}
	m, err := middleware(o, e)
	if err != nil {
		return err
	}
	values, err := parseObject(arg)
	if err != nil {
		return err
	}
	var v string
	if o.user != "" {
		v, err = signLogin(m, o, values)
	} else {
		v, err = m.Encode(values) // at e.now: the middleware's clock
	}
	if err != nil {
		return fmt.Errorf("cannot sign: %w", err)
	}
	fmt.Fprintln(e.stdout, v)
	return nil
}

// signLogin returns the cookie a request that calls Login(o.user) and then
// sets values gets from m: the user where the format's framework keeps it,
// with what Login adds (Flask-Login's "_id" for the request's remote
// address and User-Agent, given by --remote-addr and --user-agent).
func signLogin(m *sessions.Middleware, o options, values map[string]any) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:0"
	if o.remote != "" {
		req.RemoteAddr = net.JoinHostPort(o.remote, "0")
	}
	if o.uaSet {
		req.Header.Set("User-Agent", o.userAgent)
	}
	var failed error
	w := discardResponse{http.Header{}}
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if failed = sessions.Login(r.Context(), o.user); failed != nil {
			return
		}
		s, err := sessions.GetSession(r.Context())
		if failed = err; err != nil {
			return
		}
		for k, v := range values {
			s.Set(k, v)
		}
	})).ServeHTTP(w, req)
	if failed != nil {
		return "", failed
	}
	for _, line := range w.h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == o.name && c.MaxAge >= 0 {
			return c.Value, nil
		}
	}
	return "", errors.New("the middleware wrote no cookie (a key it reserves, or a value too large?)")
}

// discardResponse is a ResponseWriter that keeps the headers only.
type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header       { return d.h }
func (discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (discardResponse) WriteHeader(int)             {}

// parseObject reads one JSON object, keeping numbers exact.
func parseObject(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil || values == nil {
		return nil, usageError{"JSON argument is not a JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, usageError{"JSON argument has data after the object"}
	}
	return values, nil
}
