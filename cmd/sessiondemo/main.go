// Command sessiondemo is a small web application to click through
// ctxsession: a visit counter, a login form, a page that shows the decoded
// session, logout and flash messages.
//
//	go run ./cmd/sessiondemo                      # signed cookies, http://127.0.0.1:8080
//	go run ./cmd/sessiondemo -store memory        # server-side sessions in memory
//	go run ./cmd/sessiondemo -store dir:./sessions # ... in files under a directory
//	go run ./cmd/sessiondemo -store redis://127.0.0.1:6379/0
//	go run ./cmd/sessiondemo -format flask        # Flask's cookie format
//
// The secret key comes from -key or SESSION_SECRET_KEY; without either, a
// key is generated and printed at start (sessions then end when the demo
// stops). With -store, the home page offers "log out everywhere" and the
// "Your sessions" page lists the user's devices, each of which can be
// ended.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ctxsession/sessions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// options are the command-line flags.
type options struct {
	addr   string
	key    string
	store  string
	format string
}

// run parses args, serves until ctx is done and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("sessiondemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.key, "key", "", "secret key, at least 32 bytes (default $SESSION_SECRET_KEY, else generated)")
	fs.StringVar(&o.store, "store", "", "server-side sessions: "+storeForms+" (default: signed cookies)")
	fs.StringVar(&o.format, "format", "itsdangerous", "cookie format: "+formatNames())
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sessiondemo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if o.key == "" {
		o.key = getenv("SESSION_SECRET_KEY")
	}
	generated := o.key == ""
	if generated {
		o.key = newKey()
	}
	a, closeStore, err := build(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		return 2
	}
	defer closeStore()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		return 1
	}
	if generated {
		fmt.Fprintf(stdout, "secret key (generated for this run; pass -key or SESSION_SECRET_KEY to keep sessions across restarts):\n  %s\n", o.key)
	}
	fmt.Fprintf(stdout, "sessions: %s, format %s\n", a.mode, a.format)
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())

	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "sessiondemo: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// build configures the sessions and the application. The returned function
// releases the store.
func build(ctx context.Context, o options) (*app, func(), error) {
	var format sessions.Format
	if err := format.UnmarshalText([]byte(o.format)); err != nil {
		return nil, nil, fmt.Errorf("-format: %w", err)
	}
	cfg := sessions.SessionConfig{SecretKey: o.key, Format: format}
	mode := "signed cookies (the data is in the cookie)"
	if format == sessions.FormatEncrypted {
		mode = "encrypted cookies (the data is in the cookie, unreadable without the key)"
	}
	closeStore := func() {}
	if o.store != "" {
		st, desc, closer, err := openStore(ctx, o.store)
		if err != nil {
			return nil, nil, fmt.Errorf("-store: %w", err)
		}
		cfg.Store, mode, closeStore = st, "server-side, "+desc, closer
	}
	m, err := sessions.New(cfg)
	if err != nil {
		closeStore()
		if errors.Is(err, sessions.ErrWeakKey) {
			return nil, nil, fmt.Errorf("key: %w", err) // the error says how to make one
		}
		return nil, nil, err
	}
	return newApp(m, sessions.DefaultCookieName, mode, format.String(), cfg.Store != nil), closeStore, nil
}

// newKey returns 256 random bits as base64url.
func newKey() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// formatNames lists the cookie formats the library knows.
func formatNames() string {
	var names []string
	for f := sessions.Format(0); !strings.HasPrefix(f.String(), "Format("); f++ {
		names = append(names, f.String())
	}
	return strings.Join(names, ", ")
}
