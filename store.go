package sessions

import (
	"context"
	"errors"
	"time"
)

// A Store keeps session data on the server, keyed by an opaque id. With
// SessionConfig.Store set, the cookie carries only a signed random session
// id, and the store holds the data.
//
// The ids a Store sees are storage keys derived from the session id (a
// SHA-256 hash in lowercase hex), never the id in the cookie, so a copy of
// the store's keys does not let anyone use a session. Stores must still
// treat ids as untrusted strings (a user's own code can call a Store too).
//
// The contract for implementers (package sessionstest checks it):
//   - Find returns found=false and a nil error for an id that does not
//     exist, has expired, or is malformed; err is for system failures only.
//   - Create stores a new record. It returns an error matching ErrExists if
//     the id is taken.
//   - Update replaces an existing record and returns found=false, writing
//     nothing, if the record no longer exists (deleted by Logout or
//     DestroyUser while this request ran). It must not recreate it.
//   - Delete removes a record; deleting a missing id is not an error.
//   - A record is never returned after its Expiry.
//   - Every method honours ctx's deadline and cancellation.
//   - Implementations are safe for concurrent use.
type Store interface {
	Find(ctx context.Context, id string) (data []byte, found bool, err error)
	Create(ctx context.Context, rec Record) error
	Update(ctx context.Context, rec Record) (found bool, err error)
	Delete(ctx context.Context, id string) error
}

// A Record is one session as a Store keeps it.
type Record struct {
	ID   string // storage key
	Data []byte // the session's JSON payload
	// Expiry is when the record ends: it must not be returned after it.
	// It is wall-clock time (time.Now), even when SessionConfig.Now sets
	// another clock for the middleware, since stores such as Redis keep
	// time by their own clocks.
	Expiry time.Time
	// UserID is the logged-in user, or "" for an anonymous session. A
	// UserStore indexes records by it.
	UserID string
}

// A UserStore is a Store that also indexes sessions by user, so that all
// sessions of one user can be listed and ended without scanning the store.
// Middleware.DestroyUser and Middleware.UserSessions need one.
type UserStore interface {
	Store
	// UserSessions returns the ids of userID's live sessions.
	UserSessions(ctx context.Context, userID string) ([]string, error)
	// DeleteUser deletes every session of userID.
	DeleteUser(ctx context.Context, userID string) error
}

// ErrExists is returned by Store.Create for an id that already exists.
var ErrExists = errors.New("sessions: record already exists")
