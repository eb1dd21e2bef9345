// Package faultstore wraps a sessions.Store, for tests: every call goes
// through to the wrapped store unless the test told the operation to fail
// or to block, and each call is counted. It records the records it created,
// so that a test can list the ids a middleware created and check which of
// them the wrapped store still holds.
//
// It imports package sessions, so the root package's own tests can use it
// only from package sessions_test.
package faultstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// An Op names a store operation.
type Op int

// The operations of sessions.Store and sessions.UserStore.
const (
	Find Op = iota
	Create
	Update
	Delete
	UserSessions
	DeleteUser
	numOps
)

var opNames = [numOps]string{"Find", "Create", "Update", "Delete", "UserSessions", "DeleteUser"}

func (op Op) String() string {
	if op < 0 || op >= numOps {
		return fmt.Sprintf("Op(%d)", int(op))
	}
	return opNames[op]
}

// ErrInjected is the failure a test injects when it has no error of its
// own to return.
var ErrInjected = errors.New("faultstore: injected failure")

// A Gate holds a blocked call: Entered is closed when the call arrives, and
// the call goes on to the wrapped store once Release is called.
type Gate struct {
	Entered <-chan struct{}
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// Release lets the blocked call continue. It may be called more than once.
func (g *Gate) Release() { g.once.Do(func() { close(g.release) }) }

// A Store wraps a sessions.Store. It implements sessions.UserStore; the
// two UserStore operations fail with an error matching
// sessions.ErrNotSupported when the wrapped store is not a UserStore (use
// Plain for a Store that is not a UserStore at all).
type Store struct {
	inner sessions.Store

	mu      sync.Mutex
	fails   [numOps]error
	once    [numOps]bool
	gates   [numOps]*Gate
	counts  [numOps]int
	created []sessions.Record
}

// New returns a Store wrapping inner.
func New(inner sessions.Store) *Store { return &Store{inner: inner} }

// NewMem returns a Store wrapping a new memstore without a cleanup
// goroutine, closed when the test ends.
func NewMem(t testing.TB) *Store {
	ms := memstore.New(memstore.WithCleanupInterval(0))
	t.Cleanup(func() { ms.Close() })
	return New(ms)
}

// Inner returns the wrapped store, to read or change it behind the
// middleware's back.
func (s *Store) Inner() sessions.Store { return s.inner }

// Fail makes every later call of op fail with err, without reaching the
// wrapped store, until Fail(op, nil).
func (s *Store) Fail(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[op], s.once[op] = err, false
}

// FailOnce makes the next call of op fail with err; the calls after it go
// through.
func (s *Store) FailOnce(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[op], s.once[op] = err, true
}

// Block makes the next call of op wait, before it reaches the wrapped
// store, until the returned Gate is released.
func (s *Store) Block(op Op) *Gate {
	entered := make(chan struct{})
	g := &Gate{Entered: entered, entered: entered, release: make(chan struct{})}
	s.mu.Lock()
	s.gates[op] = g
	s.mu.Unlock()
	return g
}

// Count returns how many calls of op the Store has had, failed ones
// included.
func (s *Store) Count(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// Created returns the records of the successful Create calls, oldest
// first.
func (s *Store) Created() []sessions.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// CreatedIDs returns the ids of Created.
func (s *Store) CreatedIDs() []string {
	var ids []string
	for _, r := range s.Created() {
		ids = append(ids, r.ID)
	}
	return ids
}

// ForgetCreated empties the list Created returns.
func (s *Store) ForgetCreated() {
	s.mu.Lock()
	s.created = nil
	s.mu.Unlock()
}

// Live returns the ids of Created that the wrapped store still finds, in
// the order they were created.
func (s *Store) Live(ctx context.Context) ([]string, error) {
	var live []string
	for _, id := range s.CreatedIDs() {
		_, found, err := s.inner.Find(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			live = append(live, id)
		}
	}
	return live, nil
}

// enter counts a call of op, waits at its gate if it has one, and returns
// the error it must fail with, if any.
func (s *Store) enter(op Op) error {
	s.mu.Lock()
	s.counts[op]++
	g := s.gates[op]
	s.gates[op] = nil
	s.mu.Unlock()
	if g != nil {
		close(g.entered)
		<-g.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.fails[op]
	if s.once[op] {
		s.fails[op], s.once[op] = nil, false
	}
	return err
}

// Find implements sessions.Store.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := s.enter(Find); err != nil {
		return sessions.Record{}, false, err
	}
	return s.inner.Find(ctx, id)
}

// Create implements sessions.Store.
func (s *Store) Create(ctx context.Context, rec sessions.Record) error {
	if err := s.enter(Create); err != nil {
		return err
	}
	if err := s.inner.Create(ctx, rec); err != nil {
		return err
	}
	s.mu.Lock()
	s.created = append(s.created, rec)
	s.mu.Unlock()
	return nil
}

// Update implements sessions.Store.
func (s *Store) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := s.enter(Update); err != nil {
		return false, err
	}
	return s.inner.Update(ctx, rec)
}

// Delete implements sessions.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.enter(Delete); err != nil {
		return err
	}
	return s.inner.Delete(ctx, id)
}

// UserSessions implements sessions.UserStore.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	if err := s.enter(UserSessions); err != nil {
		return nil, err
	}
	us, err := s.userStore()
	if err != nil {
		return nil, err
	}
	return us.UserSessions(ctx, userID)
}

// DeleteUser implements sessions.UserStore.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if err := s.enter(DeleteUser); err != nil {
		return err
	}
	us, err := s.userStore()
	if err != nil {
		return err
	}
	return us.DeleteUser(ctx, userID)
}

func (s *Store) userStore() (sessions.UserStore, error) {
	us, ok := s.inner.(sessions.UserStore)
	if !ok {
		return nil, fmt.Errorf("faultstore: %T is not a UserStore: %w", s.inner, sessions.ErrNotSupported)
	}
	return us, nil
}

// Plain returns s as a sessions.Store that is not a sessions.UserStore.
func (s *Store) Plain() sessions.Store { return plain{s} }

type plain struct{ s *Store }

func (p plain) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	return p.s.Find(ctx, id)
}
func (p plain) Create(ctx context.Context, rec sessions.Record) error { return p.s.Create(ctx, rec) }
func (p plain) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	return p.s.Update(ctx, rec)
}
func (p plain) Delete(ctx context.Context, id string) error { return p.s.Delete(ctx, id) }
