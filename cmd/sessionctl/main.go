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
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

// commonNames are the session cookie names the frameworks use by default
// (the library's, Flask's, Starlette's and microdot's "session"; Django's
// "sessionid") and the recommended prefixed one.
var commonNames = []string{sessions.DefaultCookieName, "sessionid", "__Host-session"}
