// Package memstore is an in-process sessions.Store: fast, and gone when the
// process exits. It suits a single server instance and tests; several
// instances behind a load balancer need a shared store (redisstore).
//
//	store := memstore.New()
//	defer store.Close()
//	mw, err := sessions.New(sessions.SessionConfig{SecretKey: key, Store: store})
//
// Records live for their TTL from each write, by the store's clock (see
// WithClock): an expired record is never returned, and a
// background goroutine removes them (every minute by default, see
// WithCleanupInterval). Close stops that goroutine; a Store that becomes
// unreachable stops it too, so forgetting Close leaks nothing for long.
package memstore

import (
	"container/heap"
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/ctxsession/sessions"
)

// DefaultCleanupInterval is how often expired records are removed unless
// WithCleanupInterval says otherwise.
const DefaultCleanupInterval = time.Minute

// An Option configures New.
type Option func(*options)

type options struct {
	interval time.Duration
	now      func() time.Time
	limit    int
}

// DefaultLimit is the number of records a store holds at most unless
// WithLimit says otherwise: about a gigabyte of small sessions.
const DefaultLimit = 1_000_000

// ErrFull is returned by Create when the store holds its limit of records
// and none can be evicted: every record belongs to a logged-in user. The
// middleware reports it as a store failure (500), so a flood of new
// sessions cannot exhaust the process's memory.
var ErrFull = errors.New("memstore: record limit reached")

// WithLimit caps the number of records (default DefaultLimit). When the
// store is full, Create removes expired records, then evicts anonymous
// sessions (those without a user), soonest-expiring first, and only when
// none is left fails with ErrFull; Update and Delete keep working. So a
// flood of cookieless visitors that each get a session (a CSRF token, say)
// pushes out other anonymous sessions but never makes a Login fail. Zero
// or negative means no limit.
func WithLimit(n int) Option {
	return func(o *options) { o.limit = n }
}

// WithCleanupInterval sets how often the background goroutine removes
// expired records. Zero or negative starts no goroutine: expired records
// are then only hidden, and removed by Cleanup. Default one minute.
func WithCleanupInterval(d time.Duration) Option {
	return func(o *options) { o.interval = d }
}

// WithClock sets the clock that decides expiry. Default time.Now. Tests set
// one to expire records without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Store is the in-memory store. It implements sessions.UserStore. Create it
// with New; it is safe for concurrent use.
type Store struct {
	*core
}

// core holds the data. The cleanup goroutine references only core, so
// that an unreachable Store can be collected and its goroutine stopped.
type core struct {
	now   func() time.Time
	limit int

	mu    sync.Mutex
	recs  map[string]record
	users map[string]map[string]struct{} // user id -> storage keys
	// anon orders the anonymous records by expiry, for eviction. It may
	// hold stale entries (a record since updated, deleted or logged in);
	// eviction skips those, and cleanup rebuilds it.
	anon expiryHeap

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{} // closed when the cleanup goroutine has returned
}

type record struct {
	data    []byte
	expiry  time.Time
	user    string
	version uint64
}

var _ sessions.UserStore = (*Store)(nil)

// New returns an empty store and, unless the cleanup interval is zero,
// starts its cleanup goroutine.
func New(opts ...Option) *Store {
	o := options{interval: DefaultCleanupInterval, now: time.Now, limit: DefaultLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	c := &core{
		now:   o.now,
		limit: o.limit,
		recs:  make(map[string]record),
		users: make(map[string]map[string]struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	s := &Store{c}
	if o.interval > 0 {
		go c.cleanupLoop(o.interval)
		runtime.AddCleanup(s, func(c *core) { c.close() }, c)
	} else {
		close(c.done)
	}
	return s
}

// Close stops the cleanup goroutine and waits for it to return. The store
// stays usable (without background cleanup). Calling Close again does
// nothing. It always returns nil.
func (s *Store) Close() error {
	s.close()
	<-s.done
	return nil
}

func (c *core) close() { c.closeOnce.Do(func() { close(c.stop) }) }

func (c *core) cleanupLoop(interval time.Duration) {
	defer close(c.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.cleanup()
		}
	}
}

// Cleanup removes every expired record now and returns how many it removed.
func (s *Store) Cleanup() int { return s.cleanup() }

func (c *core) cleanup() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cleanupLocked(c.now())
}

func (c *core) cleanupLocked(now time.Time) int {
	n := 0
	for id, r := range c.recs {
		if !now.Before(r.expiry) {
			c.removeLocked(id, r)
			n++
		}
	}
	c.rebuildAnonLocked()
	return n
}

// rebuildAnonLocked makes anon hold exactly the anonymous records.
func (c *core) rebuildAnonLocked() {
	c.anon = c.anon[:0]
	if c.limit <= 0 {
		return
	}
	for id, r := range c.recs {
		if r.user == "" {
			c.anon = append(c.anon, anonEntry{expiry: r.expiry, id: id})
		}
	}
	heap.Init(&c.anon)
}

// evictLocked removes the anonymous record that expires soonest and
// reports whether there was one.
func (c *core) evictLocked() bool {
	for c.anon.Len() > 0 {
		e := heap.Pop(&c.anon).(anonEntry)
		if r, ok := c.recs[e.id]; ok && r.user == "" && r.expiry.Equal(e.expiry) {
			c.removeLocked(e.id, r)
			return true
		}
	}
	return false
}

// anonEntry is an anonymous record's place in expiryHeap.
type anonEntry struct {
	expiry time.Time
	id     string
}

// expiryHeap is a container/heap of anonEntry, soonest expiry first.
type expiryHeap []anonEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(anonEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Len returns the number of records held, expired ones not yet removed
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Find returns the record, with a copy of its data.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return sessions.Record{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id]
	if !ok || !s.now().Before(r.expiry) {
		return sessions.Record{}, false, nil
	}
	return sessions.Record{ID: id, Data: append([]byte(nil), r.data...), UserID: r.user, Version: r.version}, true, nil
}

// Create stores a copy of rec, as version 1. It returns sessions.ErrExists
// when a live record has the same id. A record whose TTL is not positive
// is not stored.
func (s *Store) Create(ctx context.Context, rec sessions.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if old, ok := s.recs[rec.ID]; ok {
		if now.Before(old.expiry) {
			return sessions.ErrExists
		}
		s.removeLocked(rec.ID, old)
	}
	if rec.TTL <= 0 {
		return nil
	}
	if s.limit > 0 && len(s.recs) >= s.limit {
		s.cleanupLocked(now)
		for len(s.recs) >= s.limit {
			if !s.evictLocked() {
				return ErrFull
			}
		}
	}
	s.putLocked(rec, now, 1)
	return nil
}

// Update replaces a live record whose version is rec.Version, as the next
// version. It reports found=false, and stores nothing, when there is none,
// and sessions.ErrConflict when the version differs. A TTL that is not
// positive removes the record.
func (s *Store) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	old, ok := s.recs[rec.ID]
	if !ok {
		return false, nil
	}
	if !now.Before(old.expiry) {
		s.removeLocked(rec.ID, old)
		return false, nil
	}
	if old.version != rec.Version {
		return true, sessions.ErrConflict
	}
	s.removeLocked(rec.ID, old)
	if rec.TTL > 0 {
		s.putLocked(rec, now, old.version+1)
	}
	return true, nil
}

// Delete removes a record; a missing id is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.recs[id]; ok {
		s.removeLocked(id, r)
	}
	return nil
}

// UserSessions returns the ids of userID's live records, in no particular
// order. An unknown user has none.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var ids []string
	for id := range s.users[userID] {
		if now.Before(s.recs[id].expiry) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// DeleteUser removes every record of userID, atomically with respect to
// the store's other methods.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.users[userID] {
		delete(s.recs, id)
	}
	delete(s.users, userID)
	return nil
}

// putLocked stores a copy of rec, written at now, as version, and adds it
// to its user's index. The id must not be in the store.
func (c *core) putLocked(rec sessions.Record, now time.Time, version uint64) {
	r := record{data: append([]byte(nil), rec.Data...), expiry: now.Add(rec.TTL), user: rec.UserID, version: version}
	c.recs[rec.ID] = r
	if rec.UserID == "" {
		if c.limit > 0 {
			heap.Push(&c.anon, anonEntry{expiry: r.expiry, id: rec.ID})
			if c.anon.Len() > 2*len(c.recs)+1024 {
				c.rebuildAnonLocked() // mostly stale entries: amortized O(1)
			}
		}
		return
	}
	set := c.users[rec.UserID]
	if set == nil {
		set = make(map[string]struct{})
		c.users[rec.UserID] = set
	}
	set[rec.ID] = struct{}{}
}

// removeLocked deletes a record and its user's index entry.
func (c *core) removeLocked(id string, r record) {
	delete(c.recs, id)
	if r.user == "" {
		return
	}
	if set := c.users[r.user]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(c.users, r.user)
		}
	}
}
