// Package filestore is a sessions.Store that keeps one file per session
// under a directory (the secure_cookie FilesystemSessionStore). Sessions
// survive a restart and can be shared by processes on one machine.
//
//	store, err := filestore.New("/var/lib/myapp/sessions")
//
// Layout under the directory (created with mode 0700 if missing):
//
//	sessions/<id>          one file per session, mode 0600
//	users/<sha256(user)>/  one empty marker file per session of that user
//	tmp/                   files being written, renamed into place
//
// Every write goes to a temporary file that is synced and then renamed (or
// hard-linked, for Create) into place, so a reader sees the old record or
// the new one, never a torn one. Ids are checked against a strict pattern
// (1 to 128 of A-Z a-z 0-9 _ -) before any path is built: no id can name a
// file outside the directory.
//
// Expired files are hidden at once and removed by Cleanup; call it from a
// scheduled job or a ticker.
//
// Concurrency: Update and Delete lock the session's file with flock(2) on
// Unix, so on a local filesystem several processes sharing the directory
// keep the contract (an Update never recreates a record a Delete removed).
// On other systems the lock only covers one process. Network filesystems
// may not honour flock. DeleteUser removes the sessions listed in the
// user's index; a session the same user creates while it runs may survive
// it.
package filestore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ctxsession/sessions"
)

// MaxIDLength is the longest id the store accepts.
const MaxIDLength = 128

// ErrInvalidID is returned by Create for an id that does not match the
// store's pattern. Find, Update and Delete treat such ids as unknown.
var ErrInvalidID = errors.New("filestore: invalid session id")

// ErrCorrupt is returned when a session file is not in the store's format.
var ErrCorrupt = errors.New("filestore: corrupt session file")

// ErrFull is returned by Create when the store holds its WithLimit of
// sessions and none can be evicted: every one belongs to a logged-in user.
var ErrFull = errors.New("filestore: session limit reached")

// An Option configures New.
type Option func(*Store)

// WithLimit caps the number of session files. When the directory holds n,
// Create removes expired sessions, then evicts anonymous ones (without a
// user), soonest-expiring first, and fails with ErrFull only when every
// session belongs to a logged-in user: anonymous visitors can never make a
// Login fail. Checking costs a directory listing per Create, and making room
// reads every session file. Zero or negative (the default) means no limit.
func WithLimit(n int) Option { return func(s *Store) { s.limit = n } }

// WithClock sets the clock that decides expiry. Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Store is the filesystem store. It implements sessions.UserStore and is
// safe for concurrent use.
type Store struct {
	dir   string
	now   func() time.Time
	seed  maphash.Seed
	locks [64]sync.Mutex // in-process exclusion per id stripe
	limit int
	room  sync.Mutex // one Create at a time makes room
}

var _ sessions.UserStore = (*Store)(nil)

// New returns a store keeping its files under dir, which it creates (mode
// 0700) if needed. It fails if dir cannot be created or written, and, on
// Unix, if dir or one of its subdirectories is writable by group or others
// or owned by another user than this process's (root excepted), as
// OpenSSH treats ~/.ssh: whoever can write there can edit a session and
// become its user. A directory another local user created first (in a
// shared /tmp, say) is refused.
func New(dir string, opts ...Option) (*Store, error) {
	if dir == "" {
		return nil, errors.New("filestore: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	s := &Store{dir: abs, now: time.Now, seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(s)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, d := range []string{abs, s.sub("sessions"), s.sub("users"), s.sub("tmp")} {
		// Each is checked before anything is created inside it.
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		why, err := checkDir(d)
		if err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		if why != "" {
			return nil, fmt.Errorf("filestore: refusing directory %s: it %s", d, why)
		}
	}
	// Fail now, not at the first request, if the directory is not writable.
	f, err := os.CreateTemp(s.sub("tmp"), "probe-*")
	if err != nil {
		return nil, fmt.Errorf("filestore: directory not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	return s, nil
}

// checkDir returns why the directory d is unsafe, or "": d itself (as a
// symbolic link, only who owns it) and what it resolves to.
func checkDir(d string) (string, error) {
	fi, err := os.Lstat(d)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if why := unsafeOwner(fi); why != "" {
			return "is a symbolic link that " + why, nil
		}
		if fi, err = os.Stat(d); err != nil {
			return "", err
		}
	}
	return unsafeDir(fi), nil
}

// Dir returns the store's directory, as an absolute path.
func (s *Store) Dir() string { return s.dir }

func (s *Store) sub(name string) string { return filepath.Join(s.dir, name) }

// validID reports whether id may become a file name.
func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Store) path(id string) string { return filepath.Join(s.dir, "sessions", id) }

func userDir(dir, user string) string {
	sum := sha256.Sum256([]byte(user))
	return filepath.Join(dir, "users", hex.EncodeToString(sum[:]))
}

func (s *Store) marker(user, id string) string { return filepath.Join(userDir(s.dir, user), id) }

func (s *Store) stripe(id string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, id)%uint64(len(s.locks))]
}

func (s *Store) live(r fileRec) bool { return s.now().Before(r.expiry) }

// Find reads a session file. A missing, expired or invalid id is not found.
func (s *Store) Find(ctx context.Context, id string) (sessions.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return sessions.Record{}, false, err
	}
	if !validID(id) {
		return sessions.Record{}, false, nil
	}
	b, err := os.ReadFile(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, fmt.Errorf("filestore: %w", err)
	}
	r, err := decode(b)
	if err != nil {
		return sessions.Record{}, false, fmt.Errorf("%w: %s", err, id)
	}
	if !s.live(r) {
		return sessions.Record{}, false, nil
	}
	return sessions.Record{ID: id, Data: r.data, UserID: r.user, Version: r.version}, true, nil
}

// writeTemp writes b to a new synced file in tmp/ and returns its name.
func (s *Store) writeTemp(b []byte) (string, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	name := filepath.Join(s.dir, "tmp", hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// Create writes a new session file. It returns sessions.ErrExists if a live
// session has the id, and ErrInvalidID for an id outside the pattern. A
// record whose TTL is not positive is not written.
func (s *Store) Create(ctx context.Context, rec sessions.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(rec.ID) {
		return fmt.Errorf("%w: %.40q", ErrInvalidID, rec.ID)
	}
	if rec.TTL <= 0 {
		return nil
	}
	if s.limit > 0 {
		if err := s.makeRoom(ctx); err != nil {
			return err
		}
	}
	mu := s.stripe(rec.ID)
	mu.Lock()
	defer mu.Unlock()
	// The index entry comes first, so DeleteUser can always find a
	// session that exists.
	if err := s.addMarker(rec.UserID, rec.ID); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	tmp, err := s.writeTemp(encode(rec, s.now().Add(rec.TTL), 1))
	if err != nil {
		s.removeMarker(rec.UserID, rec.ID)
		return fmt.Errorf("filestore: %w", err)
	}
	defer os.Remove(tmp)
	for attempt := 0; ; attempt++ {
		err = os.Link(tmp, s.path(rec.ID)) // fails if the file exists: create-if-absent
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt > 0 {
			break
		}
		// Taken: by a live session, or by an expired one Cleanup has not
		// removed yet.
		removed, derr := s.remove(rec.ID, true)
		if derr != nil {
			err = derr
			break
		}
		if !removed {
			err = sessions.ErrExists
			break
		}
	}
	if errors.Is(err, sessions.ErrExists) {
		// The marker may be the existing record's own; a stale one is
		// harmless (index readers check the record's user).
		return err
	}
	s.removeMarker(rec.UserID, rec.ID)
	return fmt.Errorf("filestore: %w", err)
}

// openLocked opens and locks the current file of id. It returns nil when
// there is none. The caller must call unlock.
func (s *Store) openLocked(id string) (*os.File, error) {
	for {
		f, err := os.OpenFile(s.path(id), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if err := lockFile(f); err != nil {
			f.Close()
			return nil, err
		}
		// Another writer may have replaced or removed the file while we
		// waited for the lock: only the file at the path counts.
		fi, err1 := f.Stat()
		pi, err2 := os.Stat(s.path(id))
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			return f, nil
		}
		unlock(f)
		if err2 != nil && !errors.Is(err2, fs.ErrNotExist) {
			return nil, err2
		}
	}
}

func unlock(f *os.File) {
	unlockFile(f)
	f.Close()
}

// lockedRecord is a session file opened, locked and read by openRecord.
type lockedRecord struct {
	f   *os.File
	rec fileRec
	// bad is the decode error (ErrCorrupt) when the file is not in the
	// store's format; rec is then zero. Each caller decides what a
	// corrupt file means to it.
	bad error
}

func (l *lockedRecord) unlock() { unlock(l.f) }

// openRecord opens and locks the current file of id (see openLocked),
// reads it and decodes it. It returns nil when there is none. The caller
// must call unlock.
func (s *Store) openRecord(id string) (*lockedRecord, error) {
	f, err := s.openLocked(id)
	if err != nil || f == nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		unlock(f)
		return nil, err
	}
	l := &lockedRecord{f: f}
	l.rec, l.bad = decode(b)
	return l, nil
}

// remove deletes id's file (only if expired, when onlyExpired) and its
// index entry. It reports whether it removed a file.
func (s *Store) remove(id string, onlyExpired bool) (bool, error) {
	l, err := s.openRecord(id)
	if err != nil || l == nil {
		return false, err
	}
	defer l.unlock()
	// A corrupt file counts as expired: it can never be read.
	if onlyExpired && l.bad == nil && s.live(l.rec) {
		return false, nil
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	s.removeMarker(l.rec.user, id)
	return true, nil
}

// Update replaces a live session file whose version is rec.Version, as the
// next version, under the file's lock. It reports found=false, writing
// nothing, when there is none (never recreating one that was deleted), and
// sessions.ErrConflict when the version differs.
func (s *Store) Update(ctx context.Context, rec sessions.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !validID(rec.ID) {
		return false, nil
	}
	mu := s.stripe(rec.ID)
	mu.Lock()
	defer mu.Unlock()
	l, err := s.openRecord(rec.ID)
	if err != nil {
		return false, fmt.Errorf("filestore: %w", err)
	}
	if l == nil {
		return false, nil
	}
	defer l.unlock()
	if l.bad != nil {
		return false, fmt.Errorf("%w: %s", l.bad, rec.ID)
	}
	old := l.rec
	if s.live(old) && old.version != rec.Version {
		return true, sessions.ErrConflict
	}
	if !s.live(old) || rec.TTL <= 0 {
		if err := os.Remove(s.path(rec.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("filestore: %w", err)
		}
		s.removeMarker(old.user, rec.ID)
		return s.live(old), nil
	}
	if rec.UserID != old.user {
		if err := s.addMarker(rec.UserID, rec.ID); err != nil {
			return false, fmt.Errorf("filestore: %w", err)
		}
	}
	tmp, err := s.writeTemp(encode(rec, s.now().Add(rec.TTL), old.version+1))
	if err != nil {
		return false, fmt.Errorf("filestore: %w", err)
	}
	if err := os.Rename(tmp, s.path(rec.ID)); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("filestore: %w", err)
	}
	if rec.UserID != old.user {
		s.removeMarker(old.user, rec.ID)
	}
	return true, nil
}

// Delete removes a session file and its index entry; a missing or invalid
// id is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	mu := s.stripe(id)
	mu.Lock()
	defer mu.Unlock()
	if _, err := s.remove(id, false); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}
