package sessions

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Configuration errors, returned by New. Every error New returns matches
// ErrInvalidConfig with errors.Is, ErrNoSecretKey and ErrWeakKey included.
var (
	// ErrInvalidConfig is the parent of every error New returns.
	ErrInvalidConfig = errors.New("sessions: invalid configuration")
	// ErrNoSecretKey means SessionConfig.SecretKey is empty.
	ErrNoSecretKey error = &configError{"sessions: SecretKey is empty"}
	// ErrWeakKey means SecretKey or a FallbackKey is too weak to be a key:
	// shorter than MinKeyLength bytes, too little variety, or a fallback
	// equal to SecretKey. The error New returns names the key.
	ErrWeakKey error = &configError{"sessions: weak key"}
)

// Request-time errors.
var (
	// ErrNoSession is returned by GetSession and the other context functions
	// when ctx does not come from a request served by Middleware.Handler.
	ErrNoSession = errors.New("sessions: no session in context (is the handler wrapped by Middleware.Handler?)")
	// ErrCookieTooLarge is passed to the error handler, as a
	// *CookieTooLargeError, when the encoded session would exceed
	// MaxCookieSize bytes. The cookie is not sent and the previous cookie
	// stays valid.
	ErrCookieTooLarge = fmt.Errorf("sessions: session cookie would exceed %d bytes", MaxCookieSize)
	// ErrHeadersWritten means a session change came after the response
	// headers had been sent and needed a new cookie, so it could not be
	// saved. The error handler receives a *LateChangeError, which matches
	// it and names the keys or the call.
	ErrHeadersWritten = errors.New("sessions: session changed after the response headers were written")
	// ErrRequestDone is returned by GetSession, and every function built
	// on it, once the request's handler has returned: a goroutine that
	// outlives its handler can no longer change the session.
	ErrRequestDone = errors.New("sessions: the request is over (its handler has returned)")
	// ErrInvalidUserID is returned by Login for an empty user id.
	ErrInvalidUserID = errors.New("sessions: empty user id")
	// ErrStore wraps every failure of a Store. The request's session is never
	// replaced by an empty one when the store fails.
	ErrStore = errors.New("sessions: store failure")
	// ErrNotSupported is returned when an operation needs a capability the
	// configuration lacks (for example DestroyUser without a UserStore).
	ErrNotSupported = errors.New("sessions: not supported by this configuration")
)

// Cookie verification errors. Every one is errors.Is(err, ErrInvalidCookie).
// The middleware never returns them to a handler: a cookie that fails
// verification gives the handler a new, empty session, and the reason goes to
// the logger at debug level. Codec.Decode and Middleware.Decode return them.
var (
	// ErrInvalidCookie is the parent of every cookie verification error.
	ErrInvalidCookie = errors.New("sessions: invalid cookie")
	// ErrMalformed means the value is not in the format's shape: missing
	// parts, bad base64, bad compression, bad JSON, oversized.
	ErrMalformed error = &cookieError{"sessions: malformed cookie"}
	// ErrBadSignature means the value is well formed but no key verifies it.
	ErrBadSignature error = &cookieError{"sessions: bad signature"}
	// ErrExpired means the signature is valid but too old; see ExpiredError.
	ErrExpired error = &cookieError{"sessions: session expired"}
	// ErrFuture means the signed timestamp lies further in the future than
	// the allowed clock skew.
	ErrFuture error = &cookieError{"sessions: timestamp in the future"}
	// ErrRevoked means the cookie is valid but its session was ended on the
	// server (Logout in store mode, DestroyUser).
	ErrRevoked error = &cookieError{"sessions: session revoked"}
)

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrInvalidConfig }

type cookieError struct{ msg string }

func (e *cookieError) Error() string        { return e.msg }
func (e *cookieError) Is(target error) bool { return target == ErrInvalidCookie }

// configErr returns an error that matches ErrInvalidConfig.
func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// malformed returns an error that matches ErrMalformed and ErrInvalidCookie.
func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}

// ExpiredError reports a cookie whose signature is valid but whose age is
// over the limit. errors.Is(err, ErrExpired) and errors.Is(err,
// ErrInvalidCookie) both hold.
type ExpiredError struct {
	Issued time.Time     // when the cookie was signed, or the session created
	Limit  time.Duration // the limit that was exceeded
	Which  string        // "MaxAge", "IdleTimeout", "AbsoluteTimeout", "exp" or "iat" (before 1970)
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("sessions: session expired (%s %v, issued %s)", e.Which, e.Limit, e.Issued.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrExpired or ErrInvalidCookie.
func (e *ExpiredError) Is(target error) bool {
	return target == ErrExpired || target == ErrInvalidCookie
}

// A LateChangeError reports a session change that could not be saved
// because it came too late: after the response headers were written, when
// it needed a new cookie (cookie mode, a session never saved before, Login,
// a renewed identity), or after the handler returned. In store mode a
// change to a saved session needs no new cookie and is saved when the
// handler returns. errors.Is(err, ErrHeadersWritten) holds.
type LateChangeError struct {
	// Keys are the session keys changed too late; "(flashes)" stands for
	// the flash queue.
	Keys []string
	// Call is the call that came too late ("Login", `Set("cart")`), when
	// one is known.
	Call string
	// AfterHandler means the change came after the handler returned.
	AfterHandler bool
}

func (e *LateChangeError) Error() string {
	msg := "sessions: session changed after the response headers were written"
	if e.AfterHandler {
		msg = "sessions: session changed after the handler returned"
	}
	if e.Call != "" {
		msg += ": " + e.Call
	}
	if len(e.Keys) > 0 {
		msg += ": keys " + strings.Join(e.Keys, ", ")
	}
	return msg
}

// Is reports whether target is ErrHeadersWritten.
func (e *LateChangeError) Is(target error) bool { return target == ErrHeadersWritten }

// A CookieTooLargeError reports a session too large for its cookie.
// errors.Is(err, ErrCookieTooLarge) holds.
type CookieTooLargeError struct {
	What    string   // "cookie", or "payload" for JSON over the decompression cap
	Size    int      // its size in bytes (a cookie: name, "=" and value)
	Limit   int      // the most allowed
	Largest []string // the session's largest keys, largest first, with their sizes
}

func (e *CookieTooLargeError) Error() string {
	msg := fmt.Sprintf("sessions: session %s would be %d bytes, over the limit of %d", e.What, e.Size, e.Limit)
	if len(e.Largest) > 0 {
		msg += "; largest keys: " + strings.Join(e.Largest, ", ")
	}
	return msg
}

// Is reports whether target is ErrCookieTooLarge.
func (e *CookieTooLargeError) Is(target error) bool { return target == ErrCookieTooLarge }
