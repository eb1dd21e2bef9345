package sessions_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	sessions "github.com/ctxsession/sessions"
)

// A Format is a flag (or a JSON or configuration value) by its name.
func ExampleFormat_UnmarshalText() {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg sessions.SessionConfig
	fs.TextVar(&cfg.Format, "format", sessions.FormatItsdangerous, "cookie format")
	fmt.Println(fs.Parse([]string{"-format", "flask"}), cfg.Format)
	var f sessions.Format
	err := f.UnmarshalText([]byte("django"))
	fmt.Println(errors.Is(err, sessions.ErrInvalidConfig))
	fmt.Println(sessions.Formats())
	// Output:
	// <nil> flask
	// true
	// [itsdangerous flask starlette jwt encrypted]
}

// A Go service mints a session that the Flask app beside it reads as its
// own (Flask 3.1 writes the same value for this session at that time).
func ExampleFormatFlask() {
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: "a-flask-secret-key-of-32-bytes-or-more",
		Format:    sessions.FormatFlask,
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	cookie, err := m.Encode(map[string]any{"cart": []any{"apple"}})
	fmt.Println(cookie, err)
	values, err := m.Decode(context.Background(), cookie)
	fmt.Println(values, err)
	// Output:
	// eyJjYXJ0IjpbImFwcGxlIl0sIl9jdHhzZXNzaW9uIjp7ImMiOjE3MDAwMDAwMDB9fQ.ZVPxAA.MRHCyBbDdvyqQxMlyeSX7TyYNsc <nil>
	// map[cart:[apple]] <nil>
}

// microdot's Session.encode()/decode(), in Go: an HS256 JWT whose claims are
// the session, with iat and exp added.
func ExampleFormatJWT() {
	m, err := sessions.New(sessions.SessionConfig{
		SecretKey: "a-microdot-secret-key-of-32-bytes+",
		Format:    sessions.FormatJWT,
	})
	if err != nil {
		panic(err)
	}
	token, _ := m.Encode(map[string]any{"n": 1})
	values, err := m.Decode(context.Background(), token)
	fmt.Println(values, err)
	_, err = m.Decode(context.Background(), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJuIjoxfQ.")
	fmt.Println(errors.Is(err, sessions.ErrBadSignature))
	// Output:
	// map[n:1] <nil>
	// true
}
