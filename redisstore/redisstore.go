// Package redisstore is a sessions.Store on Redis, for several application
// instances sharing sessions. It takes a redis.UniversalClient
// (github.com/redis/go-redis/v9), so a standalone server, Sentinel and
// Redis Cluster all work:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	mw, err := sessions.New(sessions.SessionConfig{SecretKey: key, Store: redisstore.New(rdb)})
//
// Each session is one string key, prefix + "s:" + id, whose TTL is the
// record's TTL (Redis keeps the time); the id is the storage key the
// middleware derives from the session id (a SHA-256 hash), so the keys in
// Redis cannot be used as cookies. Create is SET NX. Update is one script
// that compares the stored version with the one the caller read and only
// then writes: an Update never recreates a session that Logout or
// DestroyUser deleted meanwhile, and never overwrites a write it did not
// see. Every key has a TTL, so a maxmemory-policy of volatile-lru bounds
// the memory sessions take.
//
// Each user has an index, a sorted set at prefix + "x:" + sha256(user id),
// holding the ids of their sessions scored by when each expires, with a
// TTL at least as long as their longest session; every write to it first
// drops the members whose sessions have expired, so it never grows beyond
// the user's live sessions. Every command touches one key, so nothing needs hash tags in a
// cluster. DeleteUser reads the set's members, deletes their sessions, and
// only then removes the members, so a failure at any point leaves every
// session either deleted or still indexed; a session the same user creates
// while it runs may survive it.
//
// Set ContextTimeoutEnabled on the client so that a request's deadline also
// bounds its Redis commands; ReadTimeout and WriteTimeout bound them in any
// case.
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key the store writes, unless WithPrefix
// says otherwise.
const DefaultPrefix = "ctxsession:"

// MaxIDLength is the longest id the store accepts.
const MaxIDLength = 512

// ErrInvalidID is returned by Create for an empty or overlong id. Find,
// Update and Delete treat such ids as unknown.
var ErrInvalidID = errors.New("redisstore: invalid session id")

// ErrCorrupt is returned when a session key holds something the store did
// not write.
var ErrCorrupt = errors.New("redisstore: corrupt session value")

// An Option configures New.
type Option func(*Store)

// WithPrefix sets the prefix of every key, so that several applications
// (or a staging and a test run) can share one Redis. Default
// DefaultPrefix.
func WithPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// Store is the Redis store. It implements sessions.UserStore and
// sessions.OwnerDeleter (Logout deletes a session and its index entry in
// one round trip), and is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ sessions.OwnerDeleter = (*Store)(nil)

// New returns a store using client. It panics if client is nil.
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("redisstore: nil client")
	}
	s := &Store{rdb: client, prefix: DefaultPrefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

func validID(id string) bool { return id != "" && len(id) <= MaxIDLength }

func (s *Store) key(id string) string { return s.prefix + "s:" + id }

func (s *Store) userKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return s.prefix + "x:" + hex.EncodeToString(sum[:])
}

// The value of a session key: 'v', the version in decimal, ':', the user
// id's length in decimal, ':', the user id, then the data.
func encode(rec sessions.Record, version uint64) string {
	var b strings.Builder
	b.Grow(len(rec.UserID) + len(rec.Data) + 24)
	b.WriteByte('v')
	b.WriteString(strconv.FormatUint(version, 10))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(len(rec.UserID)))
	b.WriteByte(':')
	b.WriteString(rec.UserID)
	b.Write(rec.Data)
	return b.String()
}

func decode(v string) (user string, data []byte, version uint64, err error) {
	ver, rest, ok := strings.Cut(v, ":")
	if !ok || len(ver) < 2 || ver[0] != 'v' {
		return "", nil, 0, ErrCorrupt
	}
	version, err = strconv.ParseUint(ver[1:], 10, 64)
	if err != nil {
		return "", nil, 0, ErrCorrupt
	}
	n, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return "", nil, 0, ErrCorrupt
	}
	l, err := strconv.Atoi(n)
	if err != nil || l < 0 || l > len(rest) {
		return "", nil, 0, ErrCorrupt
	}
	return rest[:l], []byte(rest[l:]), version, nil
}

func wrap(op string, err error) error { return fmt.Errorf("redisstore: %s: %w", op, err) }

// Find returns the session (one GET); a missing or expired key is not
// found.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return sessions.Record{}, false, err
	}
	if !validID(id) {
		return sessions.Record{}, false, nil
	}
	v, err := s.rdb.Get(ctx, s.key(id)).Result()
	if errors.Is(err, redis.Nil) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, wrap("get", err)
	}
	user, data, version, err := decode(v)
	if err != nil {
		return sessions.Record{}, false, err
	}
	return sessions.Record{ID: id, Data: data, UserID: user, Version: version}, true, nil
}

// ttl is d rounded up to the millisecond, 0 for none.
func ttl(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// casScript is Update: it writes ARGV[2] with a TTL of ARGV[3] ms if the
// key holds version ARGV[1], and returns 1; 0 if the key is gone; -1 if it
// holds another version (or something the store did not write). One key:
// cluster-safe.
var casScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local c = string.find(v, ':', 1, true)
if not c or string.sub(v, 1, 1) ~= 'v' or string.sub(v, 2, c - 1) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)

// indexScript records that session ARGV[1] of the user whose index is
// KEYS[1] lives ARGV[2] more milliseconds: it drops the members that have
// expired by the server's clock, adds (or moves) this one, and makes the
// index live at least as long. One key: cluster-safe.
const indexScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`

var indexScriptRun = redis.NewScript(indexScript)

// Results of write.
const (
	written  = 1
	gone     = 0
	conflict = -1
)

// write stores rec in one round trip, preceded by the user's index update
// when there is a user: SET NX for a Create (written, or gone meaning
// taken), the version check and SET for an Update of rec.Version.
func (s *Store) write(ctx context.Context, rec sessions.Record, create bool, d time.Duration) (int64, error) {
	key := s.key(rec.ID)
	version := strconv.FormatUint(rec.Version, 10)
	if rec.UserID == "" { // no index: one command
		if create {
			ok, err := s.rdb.SetNX(ctx, key, encode(rec, 1), d).Result()
			if ok {
				return written, err
			}
			return gone, err
		}
		return casScript.Run(ctx, s.rdb, []string{key}, version, encode(rec, rec.Version+1), d.Milliseconds()).Int64()
	}
	pipe := s.rdb.Pipeline()
	var idx *redis.Cmd
	if rec.UserID != "" {
		// The index entry goes first, so DeleteUser can find every
		// session that exists. An entry whose write did not happen is
		// harmless: index readers check the session's owner.
		idx = indexScriptRun.EvalSha(ctx, pipe, []string{s.userKey(rec.UserID)}, rec.ID, d.Milliseconds())
	}
	var set *redis.BoolCmd
	var cas *redis.Cmd
	if create {
		set = pipe.SetNX(ctx, key, encode(rec, 1), d)
	} else {
		cas = casScript.EvalSha(ctx, pipe, []string{key}, version, encode(rec, rec.Version+1), d.Milliseconds())
	}
	pipe.Exec(ctx)
	// First use on this server (or after SCRIPT FLUSH): Run sends the
	// script itself.
	if idx != nil && redis.HasErrorPrefix(idx.Err(), "NOSCRIPT") {
		idx = indexScriptRun.Run(ctx, s.rdb, []string{s.userKey(rec.UserID)}, rec.ID, d.Milliseconds())
	}
	if cas != nil && redis.HasErrorPrefix(cas.Err(), "NOSCRIPT") {
		cas = casScript.Run(ctx, s.rdb, []string{key}, version, encode(rec, rec.Version+1), d.Milliseconds())
	}
	var res int64
	var err error
	if set != nil {
		var ok bool
		if ok, err = set.Result(); ok {
			res = written
		}
	} else {
		res, err = cas.Int64()
	}
	if err != nil {
		return 0, err
	}
	if idx != nil && idx.Err() != nil {
		if res == written && create {
			// Do not leave a session DeleteUser cannot find.
			s.rdb.Del(context.WithoutCancel(ctx), key)
		}
		return 0, idx.Err()
	}
	return res, nil
}

// Create stores a new session, as version 1, with SET NX. It returns
// sessions.ErrExists if the key exists. A record whose TTL is not positive
// is not written.
func (s *Store) Create(ctx context.Context, rec sessions.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(rec.ID) {
		return fmt.Errorf("%w: %d bytes", ErrInvalidID, len(rec.ID))
	}
	d := ttl(rec.TTL)
	if d == 0 {
		return nil
	}
	res, err := s.write(ctx, rec, true, d)
	if err != nil {
		return wrap("set nx", err)
	}
	if res != written {
		if rec.UserID != "" {
			// Take back the index entry unless the existing record is
			// the same user's. A failed GET keeps the entry: an extra
			// entry is harmless, a missing one hides a session from
			// DeleteUser.
			v, err := s.rdb.Get(ctx, s.key(rec.ID)).Result()
			if errors.Is(err, redis.Nil) || err == nil && owner(v) != rec.UserID {
				s.rdb.ZRem(ctx, s.userKey(rec.UserID), rec.ID)
			}
		}
		return sessions.ErrExists
	}
	return nil
}

// owner returns the user id in a session value, "" if none or corrupt.
func owner(v string) string {
	u, _, _, err := decode(v)
	if err != nil {
		return ""
	}
	return u
}

// Update replaces a live session of version rec.Version, as the next
// version, in one round trip: it reports found=false, and writes nothing,
// when the key is gone, and sessions.ErrConflict when another write came
// first. A TTL that is not positive deletes the session.
func (s *Store) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !validID(rec.ID) {
		return false, nil
	}
	d := ttl(rec.TTL)
	if d == 0 {
		found, err := s.remove(ctx, rec.ID)
		return found, err
	}
	res, err := s.write(ctx, rec, false, d)
	switch {
	case err != nil:
		return false, wrap("update", err)
	case res == conflict:
		return true, sessions.ErrConflict
	}
	return res == written, nil
}

// Delete removes a session and its index entry; a missing id is not an
// error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	_, err := s.remove(ctx, id)
	return err
}

// DeleteOwned is Delete for a record of userID (sessions.OwnerDeleter): the
// GETDEL and the index entry's ZREM go in one pipeline, one round trip.
// When the record turns out to belong to someone else, their entry is
// removed after, in a second one.
func (s *Store) DeleteOwned(ctx context.Context, id, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	if userID == "" {
		_, err := s.remove(ctx, id)
		return err
	}
	var get *redis.StringCmd
	var zrem *redis.IntCmd
	s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.GetDel(ctx, s.key(id))
		zrem = p.ZRem(ctx, s.userKey(userID), id)
		return nil
	})
	v, err := get.Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrap("getdel", err)
	}
	if err := zrem.Err(); err != nil {
		return wrap("zrem", err)
	}
	if user := owner(v); user != "" && user != userID {
		if err := s.rdb.ZRem(ctx, s.userKey(user), id).Err(); err != nil {
			return wrap("zrem", err)
		}
	}
	return nil
}

func (s *Store) remove(ctx context.Context, id string) (bool, error) {
	v, err := s.rdb.GetDel(ctx, s.key(id)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("getdel", err)
	}
	if user := owner(v); user != "" {
		if err := s.rdb.ZRem(ctx, s.userKey(user), id).Err(); err != nil {
			return true, wrap("zrem", err)
		}
	}
	return true, nil
}
