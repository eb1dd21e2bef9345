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
// Overlapping requests of one session are merged by the middleware, not by
// the store: a request that changed some keys writes with Update, naming the
// Version it read; when another request wrote in between, Update reports
// ErrConflict, and the middleware reads the record again, applies its own
// changes to it and retries. A store only needs an atomic compare-and-set.
//
// The contract for implementers (package sessionstest checks it):
//   - Find returns the record with its Data, UserID and Version (TTL is not
//     set), or found=false and a nil error for an id that does not exist,
//     has expired, or is malformed; err is for system failures only.
//   - Create stores a new record with Version 1 (rec.Version is ignored).
//     It returns an error matching ErrExists if the id is taken.
//   - Update replaces the record rec.ID when its stored Version equals
//     rec.Version, storing rec with Version rec.Version+1, atomically: no
//     other write may land between the comparison and the write. When the
//     stored Version differs it writes nothing and returns an error
//     matching ErrConflict. When the record no longer exists (deleted by
//     Logout or DestroyUser while this request ran, or expired) it writes
//     nothing and returns found=false: it must never recreate a record.
//   - Delete removes a record; deleting a missing id is not an error.
//   - A record lives for its TTL from the moment it was written (Create or
//     Update), measured by the store's own clock, and is never returned
//     after that.
//   - Every method honours ctx's deadline and cancellation.
//   - Implementations are safe for concurrent use.
type Store interface {
	Find(ctx context.Context, id string) (rec Record, found bool, err error)
	Create(ctx context.Context, rec Record) error
	Update(ctx context.Context, rec Record) (found bool, err error)
	Delete(ctx context.Context, id string) error
}

// A Record is one session as a Store keeps it.
type Record struct {
	ID   string // storage key
	Data []byte // the session's JSON payload
	// TTL is how long the record lives after this write, by the store's
	// own clock: a store never compares it with SessionConfig.Now, so a
	// test clock cannot make records expire at once or live forever.
	// Always positive when the middleware writes.
	TTL time.Duration
	// UserID is the logged-in user, or "" for an anonymous session. A
	// UserStore indexes records by it.
	UserID string
	// Version counts the writes of the record: 1 after Create, one more
	// after each Update. Find returns it; Update takes the version the
	// caller read.
	Version uint64
}

// A UserStore is a Store that also indexes sessions by user, so that all
// sessions of one user can be listed and ended without scanning the store.
// Middleware.DestroyUser and Middleware.UserSessions need one.
type UserStore interface {
	Store
	// UserSessions returns the ids of userID's live sessions.
	UserSessions(ctx context.Context, userID string) ([]string, error)
	// DeleteUser deletes every session of userID. A failure part way must
	// leave each session either deleted or still listed by UserSessions,
	// so that a retry finishes the job.
	DeleteUser(ctx context.Context, userID string) error
}

// An OwnerDeleter is a UserStore that deletes a record and its index entry
// in one round trip when told whose the record is. The middleware calls
// DeleteOwned instead of Delete (Logout, Destroy, RegenerateSession) with
// the UserID the record had when this request loaded or wrote it, "" for an
// anonymous session. The hint can be wrong only when another process
// rewrote the record with another user under the same id; DeleteOwned must
// then still leave no index entry behind, at the cost of a second round
// trip. A missing id is not an error, as for Delete.
type OwnerDeleter interface {
	UserStore
	DeleteOwned(ctx context.Context, id, userID string) error
}

// Errors of the Store contract.
var (
	// ErrExists is returned by Store.Create for an id that already exists.
	ErrExists = errors.New("sessions: record already exists")
	// ErrConflict is returned by Store.Update when the record's version is
	// not the one the caller read: another request wrote it in between.
	ErrConflict = errors.New("sessions: record changed since it was read")
)
