package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A backend is what differs between cookie mode (the session is in the
// signed cookie: cookiemode.go) and store mode (the cookie carries a signed
// id and a Store holds the session: storemode.go). The request lifecycle in
// middleware.go calls it and has no mode branches of its own.
//
// A sessionRef names one stored session: store mode's session id and the
// record's version as this request last read or wrote it. It is the zero
// sessionRef in cookie mode and before a session is first saved.
type sessionRef struct {
	id      string
	version uint64
	// user is, in store mode, the record's UserID as loaded or last
	// written: the hint for OwnerDeleter.
	user string
	// checked is, in cookie mode, when the load looked the session up in
	// the RevocationStore (zero: it did not).
	checked time.Time
}

type backend interface {
	// load verifies one cookie value and returns the session it refers
	// to. A value that fails verification gives an error matching
	// ErrInvalidCookie; any other error is a store failure (ErrStore).
	load(ctx context.Context, value string, now time.Time) (loaded, error)
	// save writes snap, a session that is not empty, as the session ref
	// (the zero ref for a new one), and returns its new ref and the
	// cookie value to send. It returns errRecordGone, having written
	// nothing, when the session was ended meanwhile (Logout or
	// DestroyUser in another request). A save that had to merge into
	// another request's write returns the merged session (else nil).
	save(ctx context.Context, ref sessionRef, snap snapshot, now, exp time.Time) (newRef sessionRef, value string, merged *loaded, err error)
	// discard ends the server-side state of ref; the zero ref is a no-op.
	discard(ctx context.Context, ref sessionRef) error
	// serverSide reports whether the session lives on the server, so that
	// a change can be saved, and Logout take effect, without a new cookie.
	serverSide() bool
	// destroyUser ends every session of userID (Middleware.DestroyUser).
	destroyUser(ctx context.Context, userID string) error
	// userSessions lists userID's sessions (Middleware.UserSessions).
	userSessions(ctx context.Context, userID string) ([]SessionInfo, error)
	// destroySession ends sessionID if it is userID's
	// (Middleware.DestroySession).
	destroySession(ctx context.Context, userID, sessionID string) error
	// newID returns a new session's public id (Session.ID) and, in store
	// mode, the secret session id its record will be created under.
	newID() (id, secret string)
	// revoke ends sid, a logged-in session of userID, where the server
	// keeps nothing else of it (cookie mode with a RevocationStore); it
	// is a no-op otherwise.
	revoke(ctx context.Context, userID, sid string) error
}

// loaded is a session cookie that passed every check.
type loaded struct {
	values map[string]any
	meta   meta // meta.Created is set: the signed time when the payload had none
	issued time.Time
	stale  bool       // verified with a fallback key
	ref    sessionRef // see backend
	id     string     // Session.ID, "" when the cookie carries none
}

// isEmpty reports whether a merged session holds nothing worth a record.
func (l *loaded) isEmpty() bool {
	return len(l.values) == 0 && l.meta.UserID == "" && len(l.meta.Flashes) == 0
}

// errRecordGone means Update found the session deleted by a concurrent
// Logout or DestroyUser: nothing is written and no cookie is sent.
var errRecordGone = errors.New("sessions: session ended while the request ran")

// cookieSize is the size of the session cookie with value as browsers
// count it: name and value.
func (m *Middleware) cookieSize(value string) int { return len(m.cfg.CookieName) + len(value) }

// tooLarge reports whether a cookie value read from a request exceeds
// MaxCookieReadSize.
func (m *Middleware) tooLarge(value string) bool { return m.cookieSize(value) > MaxCookieReadSize }

// tooLargeToWrite reports whether a cookie value would exceed
// MaxCookieSize, which browsers would drop.
func (m *Middleware) tooLargeToWrite(value string) bool { return m.cookieSize(value) > MaxCookieSize }

// tooLargeError reports a session too large for its cookie, naming its
// three largest keys by encoded size.
func (m *Middleware) tooLargeError(what string, size, limit int, payload []byte) error {
	e := &CookieTooLargeError{What: what, Size: size, Limit: limit}
	values, _, err := decodePayload(m.scheme, payload)
	if err != nil {
		return e
	}
	type kv struct {
		key  string
		size int
	}
	var sizes []kv
	for k, v := range values {
		b, _ := appendJSON(nil, v)
		sizes = append(sizes, kv{k, len(k) + len(b)})
	}
	slices.SortFunc(sizes, func(a, b kv) int { return cmp.Or(b.size-a.size, strings.Compare(a.key, b.key)) })
	for _, s := range sizes[:min(3, len(sizes))] {
		e.Largest = append(e.Largest, fmt.Sprintf("%q (%d bytes)", s.key, s.size))
	}
	return e
}

// checkPayload parses a verified payload into l and applies
// AbsoluteTimeout. A payload without a creation time (minted elsewhere) is
// counted from its signed time, so no refresh can restart the count. An
// owned payload (see Decoded) is parsed in place, others are copied first.
func (m *Middleware) checkPayload(l *loaded, payload []byte, owned bool, now time.Time) error {
	var src string
	if owned {
		src = bufString(payload)
	} else {
		src = string(payload)
	}
	values, md, err := decodePayloadString(m.scheme, src)
	if err != nil {
		return err
	}
	if md.Created.IsZero() {
		md.Created = l.issued
	}
	if a := m.cfg.AbsoluteTimeout; a > 0 && !md.Created.IsZero() && now.Sub(md.Created) > a {
		return &ExpiredError{Issued: md.Created, Limit: a, Which: "AbsoluteTimeout"}
	}
	l.values, l.meta = values, md
	return nil
}
