package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	sessions "github.com/ctxsession/sessions"
)

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

func (d discardResponse) Header() http.Header { return d.h }

func (discardResponse) Write(p []byte) (int, error) { return len(p), nil }

func (discardResponse) WriteHeader(int) {}

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
