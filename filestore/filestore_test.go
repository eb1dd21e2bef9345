package filestore_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newStore(t *testing.T, dir string, opts ...filestore.Option) *filestore.Store {
	t.Helper()
	s, err := filestore.New(dir, opts...)
	require.NoError(t, err, "New(%q)", dir)
	return s
}

func TestConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return newStore(t, t.TempDir())
	})
}

// TestMerge: overlapping requests through the middleware lose nothing.
func TestMerge(t *testing.T) {
	sessionstest.RunMiddleware(t, func(t *testing.T) sessions.Store {
		return newStore(t, t.TempDir())
	})
}

// TestConformanceSharedDir runs the suite with every subtest on one
// directory, through separate Store values, as several processes would.
func TestConformanceSharedDir(t *testing.T) {
	dir := t.TempDir()
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newStore(t, dir) })
}

func rec(id, data string, ttl time.Duration) sessions.Record {
	return sessions.Record{ID: id, Data: []byte(data), TTL: ttl}
}

// snapshot lists every file under root with its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	require.NoError(t, err)
	return out
}

func TestIDsCannotLeaveDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "store")
	s := newStore(t, dir)
	// Files an escaping id could reach.
	for _, p := range []string{"passwd", "a/passwd", "a/victim", "victim"} {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
		require.NoError(t, os.WriteFile(full, []byte("keep"), 0o600))
	}
	before := snapshot(t, root)
	ctx := context.Background()
	ids := []string{
		"../../passwd", "../victim", "../../../../../../etc/passwd", "a/b", "sessions/../../victim",
		"/etc/passwd", `..\victim`, "x\x00y", "\x00", ".", "..", "", ".hidden", "a b", "é",
		strings.Repeat("a", 10_000), strings.Repeat("a", filestore.MaxIDLength+1),
	}
	for _, id := range ids {
		assert.ErrorIs(t, s.Create(ctx, rec(id, "evil", time.Hour)), filestore.ErrInvalidID, "Create(%.20q)", id)
		_, found, err := s.Find(ctx, id)
		assert.NoError(t, err, "Find(%.20q)", id)
		assert.False(t, found, "Find(%.20q)", id)
		found, err = s.Update(ctx, rec(id, "evil", time.Hour))
		assert.NoError(t, err, "Update(%.20q)", id)
		assert.False(t, found, "Update(%.20q)", id)
		assert.NoError(t, s.Delete(ctx, id), "Delete(%.20q)", id)
	}
	assert.Equal(t, before, snapshot(t, root), "files outside the store")
	// The longest valid id works.
	long := strings.Repeat("Z", filestore.MaxIDLength)
	require.NoError(t, s.Create(ctx, rec(long, "ok", time.Hour)), "Create of a %d-byte id", len(long))
}

func TestFileModeAndLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s := newStore(t, dir)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "dir mode")
	id := sessionstest.NewID()
	r := rec(id, "data", time.Hour)
	r.UserID = "alice"
	ctx := context.Background()
	require.NoError(t, s.Create(ctx, r))
	check := func(after string) {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, "sessions", id))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "session file mode after %s", after)
	}
	check("Create")
	r.Version = 1
	found, err := s.Update(ctx, r)
	require.NoError(t, err)
	require.True(t, found)
	check("Update")
	// No temporary file is left behind.
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	assert.Empty(t, ents, "tmp after writes")
	// The user's index holds the id and nothing else; its name is a hash.
	ents, err = os.ReadDir(filepath.Join(dir, "users"))
	require.NoError(t, err)
	require.Len(t, ents, 1, "users/ holds one directory")
	assert.NotContains(t, ents[0].Name(), "alice", "users/ directory name")
}

func TestCleanupAndList(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newStore(t, t.TempDir(), filestore.WithClock(clock))
	ctx := context.Background()
	var short, long []string
	for i := range 6 {
		id := sessionstest.NewID()
		r := sessions.Record{ID: id, Data: []byte("x"), UserID: "u", TTL: time.Hour}
		if i%2 == 0 {
			r.TTL = time.Minute
			short = append(short, id)
		} else {
			long = append(long, id)
		}
		require.NoError(t, s.Create(ctx, r))
	}
	list, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 6, "List")
	n, err := s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "Cleanup before expiry")
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	list, err = s.List(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, long, list, "List after expiry")
	n, err = s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "Cleanup after expiry")
	for _, id := range short {
		_, err := os.Stat(filepath.Join(s.Dir(), "sessions", id))
		assert.ErrorIs(t, err, fs.ErrNotExist, "expired file still there")
		_, err = os.Stat(filepath.Join(s.Dir(), "users"))
		require.NoError(t, err)
	}
	ids, err := s.UserSessions(ctx, "u")
	require.NoError(t, err)
	assert.Len(t, ids, 3, "UserSessions after Cleanup")
	dead, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Cleanup(dead)
	assert.Error(t, err, "Cleanup with canceled ctx")
	_, err = s.List(dead)
	assert.Error(t, err, "List with canceled ctx")
}

func TestCorruptFileIsAnError(t *testing.T) {
	s := newStore(t, t.TempDir())
	id := sessionstest.NewID()
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "sessions", id), []byte("garbage"), 0o600))
	_, _, err := s.Find(context.Background(), id)
	assert.ErrorIs(t, err, filestore.ErrCorrupt, "Find of a corrupt file")
	_, err = s.Update(context.Background(), rec(id, "x", time.Hour))
	assert.ErrorIs(t, err, filestore.ErrCorrupt, "Update of a corrupt file")
	b, err := os.ReadFile(filepath.Join(s.Dir(), "sessions", id))
	require.NoError(t, err)
	assert.Equal(t, "garbage", string(b), "corrupt file overwritten")
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		_, err := filestore.New(dir)
		assert.Error(t, err, "New(%q)", dir)
	}
}

// TestUpdateDeleteRaceAcrossInstances races an Update through one Store
// against a Delete through another on the same directory: the two share no
// in-process lock, as two processes would not, so only the file lock keeps
// the deleted record from coming back.
func TestUpdateDeleteRaceAcrossInstances(t *testing.T) {
	dir := t.TempDir()
	a, b := newStore(t, dir), newStore(t, dir)
	ctx := context.Background()
	for i := range 150 {
		id := sessionstest.NewID()
		r := rec(id, "v", time.Hour)
		r.UserID = "u"
		require.NoError(t, a.Create(ctx, r))
		r.Version = 1
		var wg sync.WaitGroup
		var found bool
		var uerr, derr error
		wg.Go(func() { found, uerr = a.Update(ctx, r) })
		wg.Go(func() { derr = b.Delete(ctx, id) })
		wg.Wait()
		require.NoError(t, uerr, "round %d: Update", i)
		require.NoError(t, derr, "round %d: Delete", i)
		_, ok, err := a.Find(ctx, id)
		require.NoError(t, err, "round %d: Find", i)
		require.False(t, ok, "round %d: record recreated after Delete (Update found=%v)", i, found)
	}
	ids, err := a.UserSessions(ctx, "u")
	require.NoError(t, err)
	assert.Empty(t, ids, "UserSessions")
}

// TestUserDirChurn creates and deletes sessions of one user from many
// goroutines: the user's index directory is removed whenever it empties,
// and a Create must never fail because of that.
func TestUserDirChurn(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				r := rec(sessionstest.NewID(), "x", time.Hour)
				r.UserID = "churn"
				if err := s.Create(ctx, r); err != nil {
					errs <- err
					return
				}
				if err := s.Delete(ctx, r.ID); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "Create/Delete under churn")
	}
}

// TestLockedPathsOnOddFiles pins what each path that opens, locks and
// reads a session file does with a corrupt file and with a stale index
// entry: Update refuses a corrupt file and leaves it, Delete, Create and
// DeleteUser remove it, and DeleteUser leaves a session its index lists
// but that belongs to someone else.
func TestLockedPathsOnOddFiles(t *testing.T) {
	ctx := context.Background()
	owned := func(id, user string) func(s *filestore.Store) error {
		return func(s *filestore.Store) error {
			r := rec(id, "x", time.Hour)
			r.UserID = user
			return s.Create(ctx, r)
		}
	}
	for _, tc := range []struct {
		name     string
		setup    func(s *filestore.Store, id string) error
		corrupt  bool
		do       func(s *filestore.Store, id string) error
		wantErr  error
		wantFile string // the data left in the file; "" when it must be gone
		bobKeeps bool   // the file is bob's live session, still indexed
	}{
		{
			name: "update corrupt", corrupt: true,
			do: func(s *filestore.Store, id string) error {
				_, err := s.Update(ctx, rec(id, "new", time.Hour))
				return err
			},
			wantErr: filestore.ErrCorrupt, wantFile: "garbage",
		},
		{
			name: "delete corrupt", corrupt: true,
			do: func(s *filestore.Store, id string) error { return s.Delete(ctx, id) },
		},
		{
			name: "create over corrupt", corrupt: true,
			do:       func(s *filestore.Store, id string) error { return s.Create(ctx, rec(id, "new", time.Hour)) },
			wantFile: "new",
		},
		{
			name:  "delete user, corrupt file in the index",
			setup: func(s *filestore.Store, id string) error { return owned(id, "ann")(s) }, corrupt: true,
			do: func(s *filestore.Store, id string) error { return s.DeleteUser(ctx, "ann") },
		},
		{
			name: "delete user, stale index entry",
			setup: func(s *filestore.Store, id string) error {
				if err := owned(id, "bob")(s); err != nil {
					return err
				}
				sum := sha256.Sum256([]byte("ann"))
				d := filepath.Join(s.Dir(), "users", hex.EncodeToString(sum[:]))
				if err := os.MkdirAll(d, 0o700); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(d, id), nil, 0o600)
			},
			do:       func(s *filestore.Store, id string) error { return s.DeleteUser(ctx, "ann") },
			bobKeeps: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, t.TempDir())
			id := sessionstest.NewID()
			path := filepath.Join(s.Dir(), "sessions", id)
			if tc.setup != nil {
				require.NoError(t, tc.setup(s, id))
			}
			if tc.corrupt {
				require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
			}
			err := tc.do(s, id)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			b, err := os.ReadFile(path)
			switch {
			case tc.wantFile == "" && !tc.bobKeeps:
				require.ErrorIs(t, err, fs.ErrNotExist, "file after = %q; want it gone", b)
			case tc.bobKeeps:
				_, found, err := s.Find(ctx, id)
				require.NoError(t, err, "Find of bob's session")
				assert.True(t, found, "Find of bob's session; want it kept")
				ids, err := s.UserSessions(ctx, "bob")
				require.NoError(t, err)
				assert.Equal(t, []string{id}, ids, "UserSessions(bob)")
			default:
				require.NoError(t, err)
				// The data follows the header line; a corrupt file has none.
				_, data, ok := strings.Cut(string(b), "\n")
				if !ok {
					data = string(b)
				}
				assert.Equal(t, tc.wantFile, data, "file after")
			}
		})
	}
}

// childDirEnv, when set, makes the test binary the child half of
// TestTwoProcesses instead of running the tests.
const childDirEnv = "FILESTORE_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := runUpdater(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runUpdater is the child half of TestTwoProcesses: it updates the
// sessions listed in dir/ids.txt over and over, printing "ready" once it
// has started.
func runUpdater(dir string) error {
	s, err := filestore.New(dir)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "ids.txt"))
	if err != nil {
		return err
	}
	ids := strings.Fields(string(b))
	os.Stdout.WriteString("ready\n")
	for round := range 30 {
		for _, id := range ids {
			r := rec(id, "child", time.Hour)
			r.UserID = "u"
			r.Version = uint64(round) + 1 // the child is the only writer
			if _, err := s.Update(context.Background(), r); err != nil {
				return fmt.Errorf("round %d: Update: %w", round, err)
			}
		}
	}
	return nil
}

// TestTwoProcesses deletes sessions from this process while another
// process keeps updating them: once both are done, no deleted session may
// have come back.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := context.Background()
	var ids []string
	for range 200 {
		id := sessionstest.NewID()
		r := rec(id, "parent", time.Hour)
		r.UserID = "u"
		require.NoError(t, s.Create(ctx, r))
		ids = append(ids, id)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ids.txt"), []byte(strings.Join(ids, "\n")), 0o600))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	require.True(t, sc.Scan() && sc.Text() == "ready", "child did not start: %q %s", sc.Text(), stderr.String())
	go func() {
		for sc.Scan() {
		}
	}()
	for _, id := range ids {
		require.NoError(t, s.Delete(ctx, id))
	}
	require.NoError(t, cmd.Wait(), "child: %s", stderr.String())
	for _, id := range ids {
		_, found, err := s.Find(ctx, id)
		require.NoError(t, err, "Find(%.8s...)", id)
		require.False(t, found, "session %.8s... came back after Delete", id)
	}
	got, err := s.UserSessions(ctx, "u")
	require.NoError(t, err)
	assert.Empty(t, got, "UserSessions")
}

// gorilla/sessions' FilesystemStore built file names from session ids
// (GO-2024-2730): an id such as "../../x" named a file outside its
// directory. These tests give the store hostile session and user ids and
// check that no file outside its directory is created, changed or removed.
// The store sits five directories deep in a temporary tree, so that even a
// traversal that escaped would stay inside the test's own directory.

// sfxTree is a store inside a tree of bait files.
type sfxTree struct {
	root  string // the temporary tree
	dir   string // the store's directory
	store *filestore.Store
	want  map[string]string // every file outside dir and its content
}

func newSFXTree(t testing.TB, root string) *sfxTree {
	t.Helper()
	dir := filepath.Join(root, "d1", "d2", "d3", "d4", "store")
	st, err := filestore.New(dir)
	require.NoError(t, err)
	tr := &sfxTree{root: root, dir: dir, store: st, want: map[string]string{}}
	// Bait where "../x" style ids from the sessions, users and tmp
	// subdirectories would land.
	for _, p := range []string{
		"victim", "d1/victim", "d1/d2/d3/d4/victim", "d1/d2/d3/d4/store-victim",
		"d1/d2/d3/etc/passwd", "d1/d2/etc/passwd", "d1/etc/passwd", "etc/passwd",
	} {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
		require.NoError(t, os.WriteFile(full, []byte("bait "+p), 0o600))
	}
	tr.want = tr.outside(t)
	return tr
}

// outside returns every file and directory of the tree outside the store.
func (tr *sfxTree) outside(t testing.TB) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(tr.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == tr.dir {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(tr.root, p)
		if d.IsDir() {
			got[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// check fails if anything outside the store changed.
func (tr *sfxTree) check(t testing.TB, what string) {
	t.Helper()
	got := tr.outside(t)
	for p, c := range tr.want {
		if g, ok := got[p]; !ok || g != c {
			t.Fatalf("%s: %s outside the store was changed or removed", what, p)
		}
	}
	for p := range got {
		if _, ok := tr.want[p]; !ok {
			t.Fatalf("%s: %s was created outside the store", what, p)
		}
	}
}

// hostile runs every Store method with id as session id and as user id.
// Unless createUser is set, it creates no record for the user (each Create
// syncs a file, which is slow on some disks).
func (tr *sfxTree) hostile(t testing.TB, id string, createUser bool) {
	t.Helper()
	ctx := context.Background()
	s := tr.store
	valid := validPattern(id)
	rec := sessions.Record{ID: id, Data: []byte(`{"k":"v"}`), TTL: time.Hour, UserID: "alice"}

	err := s.Create(ctx, rec)
	if !valid && !errors.Is(err, filestore.ErrInvalidID) {
		t.Fatalf("Create(%.40q) = %v, want ErrInvalidID", id, err)
	}
	if _, found, err := s.Find(ctx, id); !valid && (found || err != nil) {
		t.Fatalf("Find(%.40q) = %v, %v; want not found, no error", id, found, err)
	}
	if found, err := s.Update(ctx, rec); !valid && (found || err != nil) {
		t.Fatalf("Update(%.40q) = %v, %v; want not found, no error", id, found, err)
	}
	if err := s.Delete(ctx, id); !valid && err != nil {
		t.Fatalf("Delete(%.40q) = %v, want nil", id, err)
	}
	// The id as a user id: users are indexed by a hash of the id.
	uid := "u" + strings.Repeat("0", 63)
	if createUser {
		err := s.Create(ctx, sessions.Record{ID: uid, Data: []byte(`{}`), TTL: time.Hour, UserID: id})
		if err != nil && !errors.Is(err, sessions.ErrExists) {
			t.Fatalf("Create with user %.40q: %v", id, err)
		}
	}
	s.UserSessions(ctx, id)
	s.DeleteUser(ctx, id)
	s.Delete(ctx, uid)
	s.Delete(ctx, id)
	tr.check(t, "id "+strings.ToValidUTF8(id[:min(len(id), 40)], "?"))
}

// validPattern is the store's documented id pattern: 1 to MaxIDLength of
// A-Z a-z 0-9 _ -.
func validPattern(id string) bool {
	if id == "" || len(id) > filestore.MaxIDLength {
		return false
	}
	return strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == ""
}

var sfxSeeds = []string{
	"../../etc/passwd", "../../../../etc/passwd", "../../../../../../etc/passwd",
	"../victim", "../../victim", "../store-victim", "./../victim", "..", ".", "",
	"a/b", "a\\b", "..\\victim", "/etc/passwd", "/", "sessions/../../victim",
	"\x00", "victim\x00", "a\x00/../../victim", "%2e%2e%2fvictim", "..%2f..%2fvictim",
	"tmp", "users", "sessions", "-", "_", "a b", "é", "\u2215etc\u2215passwd",
	strings.Repeat("a", 10_000), strings.Repeat("../", 3000) + "victim",
	strings.Repeat("a", 128), strings.Repeat("a", 129),
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
}

func TestSecurityFileStoreHostileIDs(t *testing.T) {
	tr := newSFXTree(t, t.TempDir())
	for _, id := range sfxSeeds {
		tr.hostile(t, id, true)
	}
	// Valid ids do work: the check above is not vacuous.
	ctx := context.Background()
	require.NoError(t, tr.store.Create(ctx, sessions.Record{ID: "abc_-123", Data: []byte(`{}`), TTL: time.Hour}), "Create(valid id)")
	_, found, err := tr.store.Find(ctx, "abc_-123")
	require.NoError(t, err, "Find(valid id)")
	assert.True(t, found, "Find(valid id)")
}

// FuzzFileStoreID: no id, as session id or user id, makes the store touch a
// file outside its directory.
func FuzzFileStoreID(f *testing.F) {
	for _, s := range sfxSeeds {
		f.Add(s)
	}
	tr := newSFXTree(f, f.TempDir())
	f.Fuzz(func(t *testing.T, id string) {
		tr.hostile(t, id, false)
	})
}

// TestLimit: with WithLimit, a full directory evicts anonymous sessions,
// soonest-expiring first, so anonymous visitors never make a Login fail;
// only a directory full of logged-in sessions refuses (ErrFull).
func TestLimit(t *testing.T) {
	s, err := filestore.New(t.TempDir(), filestore.WithLimit(3))
	require.NoError(t, err)
	ctx := context.Background()
	mk := func(user string, ttl time.Duration) (string, error) {
		id := sessionstest.NewID()
		return id, s.Create(ctx, sessions.Record{ID: id, Data: []byte("x"), UserID: user, TTL: ttl})
	}
	found := func(id string) bool {
		_, ok, err := s.Find(ctx, id)
		require.NoError(t, err)
		return ok
	}
	alice, err := mk("alice", time.Hour)
	require.NoError(t, err)
	var anon []string
	for i := range 6 {
		id, err := mk("", time.Duration(100+i)*time.Minute)
		require.NoError(t, err, "anonymous Create %d", i)
		anon = append(anon, id)
	}
	ids, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, ids, 3)
	assert.True(t, found(alice), "a logged-in session was evicted")
	assert.True(t, found(anon[5]) && found(anon[4]) && !found(anon[0]), "the soonest-expiring anonymous sessions go first")
	bob, err := mk("bob", time.Hour)
	require.NoError(t, err, "a Login in a directory full of anonymous sessions")
	carol, err := mk("carol", time.Hour)
	require.NoError(t, err)
	assert.True(t, found(alice) && found(bob) && found(carol))
	_, err = mk("dave", time.Hour)
	require.ErrorIs(t, err, filestore.ErrFull, "full of logged-in sessions")
}

// unsafeDirCase is a directory New must refuse: setup makes it from dir
// (an empty 0700 directory) and returns the path to give New.
type unsafeDirCase struct {
	name  string
	setup func(t *testing.T, dir string) string
	why   string
}

// checkRefused runs New on each case: it must fail naming the directory and
// why, having created nothing in a refused top directory.
func checkRefused(t *testing.T, cases []unsafeDirCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			require.NoError(t, os.Mkdir(dir, 0o700))
			path := tc.setup(t, dir)
			s, err := filestore.New(path)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), "refusing directory")
			assert.Contains(t, err.Error(), tc.why)
			if !strings.HasPrefix(tc.name, "subdirectory") {
				ents, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Empty(t, ents, "files created in a refused directory")
			}
		})
	}
}

// TestSecurityFileStoreRefusesUnsafeDir: New refuses a directory (or a
// subdirectory of it) that group or others can write, as OpenSSH treats
// ~/.ssh: whoever can write there can edit a session and become its user.
// The error names the directory and says why. What New creates is 0700.
func TestSecurityFileStoreRefusesUnsafeDir(t *testing.T) {
	checkRefused(t, []unsafeDirCase{
		{"group-writable", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o770))
			return dir
		}, "writable by group or others"},
		{"world-writable", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o707))
			return dir
		}, "writable by group or others"},
		{"world-writable sticky, as /tmp", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o777|fs.ModeSticky))
			return dir
		}, "writable by group or others"},
		{"subdirectory writable by others", func(t *testing.T, dir string) string {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "sessions"), 0o700))
			require.NoError(t, os.Chmod(filepath.Join(dir, "sessions"), 0o777))
			return dir
		}, "writable by group or others"},
		{"symbolic link to a world-writable directory", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o777))
			link := filepath.Join(t.TempDir(), "link")
			require.NoError(t, os.Symlink(dir, link))
			return link
		}, "writable by group or others"},
	})

	// What New creates, parents included, is 0700; a safe directory that
	// exists (0700, or 0755 owned by this user) is accepted.
	base := t.TempDir()
	newStore(t, filepath.Join(base, "a", "b"))
	for _, d := range []string{"a", "a/b", "a/b/sessions", "a/b/users", "a/b/tmp"} {
		fi, err := os.Stat(filepath.Join(base, d))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), d)
	}
	ok := filepath.Join(base, "readable")
	require.NoError(t, os.Mkdir(ok, 0o755))
	require.NoError(t, os.Chmod(ok, 0o755))
	newStore(t, ok)
}

// TestSecurityFileStoreRefusesOtherOwner: New refuses a directory, a
// subdirectory or a symbolic link owned by another user (a directory
// another local user created first in a shared /tmp). Making files owned
// by another user needs root; .ci/run runs as root.
func TestSecurityFileStoreRefusesOtherOwner(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "this test needs root, to create files owned by another user")
	const other = 65534 // nobody
	checkRefused(t, []unsafeDirCase{
		{"owned by another user", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chown(dir, other, other))
			return dir
		}, "owned by another user (uid 65534"},
		{"subdirectory owned by another user", func(t *testing.T, dir string) string {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "users"), 0o700))
			require.NoError(t, os.Chown(filepath.Join(dir, "users"), other, other))
			return dir
		}, "owned by another user"},
		{"symbolic link owned by another user", func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "link")
			require.NoError(t, os.Symlink(dir, link))
			require.NoError(t, os.Lchown(link, other, other))
			return link
		}, "is a symbolic link that is owned by another user"},
	})
}
