// Package sessionstest checks that a sessions.Store keeps the contract the
// middleware relies on. Every store of this module runs it, and so can a
// store of your own:
//
//	func TestMyStore(t *testing.T) {
//		sessionstest.Run(t, func(t *testing.T) sessions.Store {
//			return mystore.New(...)
//		})
//	}
//
// Run checks the Store methods one by one: versions and the
// compare-and-set of Update, the TTL, cancellation, concurrency, and, when
// the store is also a sessions.UserStore, its per-user index. RunMiddleware
// checks the store through the middleware: overlapping requests of one
// session, merged key by key.
//
// Both call newStore once per subtest. A store may be shared between calls
// (one database, say): the suite uses fresh random ids and user ids, so it
// neither needs an empty store nor disturbs other data. The TTL is tested
// with real time (records that live a few hundred milliseconds), so the
// store's clock must run at the pace of the wall clock.
package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
)

//lint:file-ignore ST1005 failure messages start with the name of the Store method that failed

// NewID returns a random storage key in the shape the middleware uses (64
// lowercase hex digits).
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newUser() string { return "user-" + NewID()[:16] }

// Run runs the conformance suite against the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s sessions.Store)
	}{
		{"FindUnknown", testFindUnknown},
		{"MalformedIDs", testMalformed},
		{"CreateFind", testCreateFind},
		{"CreateVersionOne", testCreateVersion},
		{"CreateExists", testCreateExists},
		{"DataIsCopied", testDataCopied},
		{"UpdateReplaces", testUpdate},
		{"UpdateStaleVersion", testUpdateStale},
		{"UpdateNeverRecreates", testUpdateMissing},
		{"Delete", testDelete},
		{"ExpiresAfterTTL", testExpires},
		{"UpdateExtendsTTL", testUpdateExtends},
		{"CanceledContext", testCanceled},
		{"Concurrent", testConcurrent},
		{"ConcurrentCreateOneWins", testCreateRace},
		{"ConcurrentUpdateOneWins", testUpdateRace},
		{"ConcurrentIncrements", testIncrements},
		{"UserIndex", testUserIndex},
		{"UserIndexOwnership", testUserOwnership},
		{"UserIndexPruned", testUserPruned},
		{"DeleteOwned", testDeleteOwned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rec(id string, data string, ttl time.Duration) sessions.Record {
	return sessions.Record{ID: id, Data: []byte(data), TTL: ttl}
}

// create stores a new record, failing the test on an error.
func create(t *testing.T, s sessions.Store, r sessions.Record) {
	t.Helper()
	if err := s.Create(ctxT(t), r); err != nil {
		t.Fatalf("Create(%.12s...) = %v; want nil", r.ID, err)
	}
}

// update writes r over the version the caller read, failing the test
// unless it succeeds.
func update(t *testing.T, s sessions.Store, r sessions.Record) {
	t.Helper()
	found, err := s.Update(ctxT(t), r)
	if err != nil || !found {
		t.Fatalf("Update(%.12s..., version %d) = %v, %v; want true, nil", r.ID, r.Version, found, err)
	}
}

func mustFind(t *testing.T, s sessions.Store, id, want string) sessions.Record {
	t.Helper()
	got, found, err := s.Find(ctxT(t), id)
	if err != nil || !found || string(got.Data) != want {
		t.Fatalf("Find(%.12s...) = %.40q, %v, %v; want %.40q, true, nil", id, got.Data, found, err, want)
	}
	return got
}

func mustNotFind(t *testing.T, s sessions.Store, id string) {
	t.Helper()
	got, found, err := s.Find(ctxT(t), id)
	if err != nil || found || got.Data != nil || got.Version != 0 {
		t.Fatalf("Find(%.12q) = %+.40v, %v, %v; want a zero Record, false, nil", id, got, found, err)
	}
}

// eventuallyGone waits (up to 10 s) for id to stop being found. It checks
// that expiry happens, not how fast.
func eventuallyGone(t *testing.T, s sessions.Store, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, found, err := s.Find(ctxT(t), id)
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		if !found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %.12s... still found 10 s after its TTL", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
