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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/sessionstest"
)

func newStore(t *testing.T, dir string, opts ...filestore.Option) *filestore.Store {
	t.Helper()
	s, err := filestore.New(dir, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
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
	return sessions.Record{ID: id, Data: []byte(data), Expiry: time.Now().Add(ttl)}
}

// snapshot lists every file under root with its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

func TestIDsCannotLeaveDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "store")
	s := newStore(t, dir)
	// Files an escaping id could reach.
	for _, p := range []string{"passwd", "a/passwd", "a/victim", "victim"} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o700)
		if err := os.WriteFile(full, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, root)
	ctx := context.Background()
	ids := []string{
		"../../passwd", "../victim", "../../../../../../etc/passwd", "a/b", "sessions/../../victim",
		"/etc/passwd", `..\victim`, "x\x00y", "\x00", ".", "..", "", ".hidden", "a b", "é",
		strings.Repeat("a", 10_000), strings.Repeat("a", filestore.MaxIDLength+1),
	}
	for _, id := range ids {
		if err := s.Create(ctx, rec(id, "evil", time.Hour)); !errors.Is(err, filestore.ErrInvalidID) {
			t.Errorf("Create(%.20q) = %v; want ErrInvalidID", id, err)
		}
		if _, found, err := s.Find(ctx, id); found || err != nil {
			t.Errorf("Find(%.20q) = %v, %v; want false, nil", id, found, err)
		}
		if found, err := s.Update(ctx, rec(id, "evil", time.Hour)); found || err != nil {
			t.Errorf("Update(%.20q) = %v, %v; want false, nil", id, found, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%.20q) = %v", id, err)
		}
	}
	after := snapshot(t, root)
	for p, c := range before {
		if after[p] != c {
			t.Errorf("%s changed or removed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("unexpected file %s", p)
		}
	}
	// The longest valid id works.
	long := strings.Repeat("Z", filestore.MaxIDLength)
	if err := s.Create(ctx, rec(long, "ok", time.Hour)); err != nil {
		t.Fatalf("Create of a %d-byte id: %v", len(long), err)
	}
}

func TestFileModeAndLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s := newStore(t, dir)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, %v; want 0700", fi.Mode(), err)
	}
	id := sessionstest.NewID()
	r := rec(id, "data", time.Hour)
	r.UserID = "alice"
	ctx := context.Background()
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, "sessions", id))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("session file mode = %v, %v; want 0600", fi.Mode(), err)
		}
	}
	check()
	if found, err := s.Update(ctx, r); !found || err != nil {
		t.Fatal(found, err)
	}
	check()
	// No temporary file is left behind.
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp holds %d files after writes; want 0", len(ents))
	}
	// The user's index holds the id and nothing else; its name is a hash.
	ents, _ := os.ReadDir(filepath.Join(dir, "users"))
	if len(ents) != 1 || strings.Contains(ents[0].Name(), "alice") {
		t.Fatalf("users/ = %v; want one hashed directory", ents)
	}
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
		r := sessions.Record{ID: id, Data: []byte("x"), UserID: "u", Expiry: now.Add(time.Hour)}
		if i%2 == 0 {
			r.Expiry = now.Add(time.Minute)
			short = append(short, id)
		} else {
			long = append(long, id)
		}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 6 {
		t.Fatalf("List = %d ids, %v; want 6", len(list), err)
	}
	if n, err := s.Cleanup(ctx); n != 0 || err != nil {
		t.Fatalf("Cleanup = %d, %v; want 0", n, err)
	}
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	list, _ = s.List(ctx)
	slices.Sort(list)
	if !slices.Equal(list, slices.Sorted(slices.Values(long))) {
		t.Fatalf("List after expiry = %v; want %v", list, long)
	}
	if n, err := s.Cleanup(ctx); n != 3 || err != nil {
		t.Fatalf("Cleanup = %d, %v; want 3", n, err)
	}
	for _, id := range short {
		if _, err := os.Stat(filepath.Join(s.Dir(), "sessions", id)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("expired file still there: %v", err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), "users")); err != nil {
			t.Fatal(err)
		}
	}
	ids, _ := s.UserSessions(ctx, "u")
	if len(ids) != 3 {
		t.Fatalf("UserSessions after Cleanup = %d; want 3", len(ids))
	}
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Cleanup(dead); err == nil {
		t.Fatal("Cleanup with canceled ctx succeeded")
	}
	if _, err := s.List(dead); err == nil {
		t.Fatal("List with canceled ctx succeeded")
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	s := newStore(t, t.TempDir())
	id := sessionstest.NewID()
	if err := os.WriteFile(filepath.Join(s.Dir(), "sessions", id), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Find(context.Background(), id); !errors.Is(err, filestore.ErrCorrupt) {
		t.Fatalf("Find of a corrupt file = %v; want ErrCorrupt", err)
	}
	if _, err := s.Update(context.Background(), rec(id, "x", time.Hour)); !errors.Is(err, filestore.ErrCorrupt) {
		t.Fatalf("Update of a corrupt file = %v; want ErrCorrupt", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir(), "sessions", id)); string(b) != "garbage" {
		t.Fatalf("corrupt file overwritten: %q", b)
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if _, err := filestore.New(dir); err == nil {
			t.Errorf("New(%q) succeeded", dir)
		}
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
		if err := a.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var found bool
		var uerr, derr error
		wg.Go(func() { found, uerr = a.Update(ctx, r) })
		wg.Go(func() { derr = b.Delete(ctx, id) })
		wg.Wait()
		if uerr != nil || derr != nil {
			t.Fatalf("round %d: Update %v, Delete %v", i, uerr, derr)
		}
		if _, ok, _ := a.Find(ctx, id); ok {
			t.Fatalf("round %d: record recreated after Delete (Update found=%v)", i, found)
		}
	}
	if ids, _ := a.UserSessions(ctx, "u"); len(ids) != 0 {
		t.Fatalf("UserSessions = %d ids; want 0", len(ids))
	}
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
		t.Fatalf("Create/Delete under churn: %v", err)
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
				if err := tc.setup(s, id); err != nil {
					t.Fatal(err)
				}
			}
			if tc.corrupt {
				if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := tc.do(s, id)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			b, err := os.ReadFile(path)
			switch {
			case tc.wantFile == "" && !tc.bobKeeps:
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("file after = %q, %v; want it gone", b, err)
				}
			case tc.bobKeeps:
				if _, found, err := s.Find(ctx, id); !found || err != nil {
					t.Fatalf("Find of bob's session = %v, %v; want it kept", found, err)
				}
				if ids, err := s.UserSessions(ctx, "bob"); err != nil || len(ids) != 1 {
					t.Fatalf("UserSessions(bob) = %q, %v; want [%s]", ids, err, id)
				}
			default:
				// The data follows the header line; a corrupt file has none.
				_, data, ok := strings.Cut(string(b), "\n")
				if !ok {
					data = string(b)
				}
				if err != nil || data != tc.wantFile {
					t.Fatalf("file after = %q, %v; want %q", b, err, tc.wantFile)
				}
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
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := os.WriteFile(filepath.Join(dir, "ids.txt"), []byte(strings.Join(ids, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("child did not start: %q %s", sc.Text(), stderr.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	for _, id := range ids {
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	for _, id := range ids {
		if _, found, err := s.Find(ctx, id); found || err != nil {
			t.Fatalf("session %.8s... came back after Delete (found %v, err %v)", id, found, err)
		}
	}
	if got, _ := s.UserSessions(ctx, "u"); len(got) != 0 {
		t.Fatalf("UserSessions = %d; want 0", len(got))
	}
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
	if err != nil {
		t.Fatal(err)
	}
	tr := &sfxTree{root: root, dir: dir, store: st, want: map[string]string{}}
	// Bait where "../x" style ids from the sessions, users and tmp
	// subdirectories would land.
	for _, p := range []string{
		"victim", "d1/victim", "d1/d2/d3/d4/victim", "d1/d2/d3/d4/store-victim",
		"d1/d2/d3/etc/passwd", "d1/d2/etc/passwd", "d1/etc/passwd", "etc/passwd",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("bait "+p), 0o600); err != nil {
			t.Fatal(err)
		}
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
	exp := time.Now().Add(time.Hour)
	valid := validPattern(id)
	rec := sessions.Record{ID: id, Data: []byte(`{"k":"v"}`), Expiry: exp, UserID: "alice"}

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
		err := s.Create(ctx, sessions.Record{ID: uid, Data: []byte(`{}`), Expiry: exp, UserID: id})
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
	if err := tr.store.Create(ctx, sessions.Record{ID: "abc_-123", Data: []byte(`{}`), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Create(valid id): %v", err)
	}
	if _, found, err := tr.store.Find(ctx, "abc_-123"); !found || err != nil {
		t.Fatalf("Find(valid id) = %v, %v", found, err)
	}
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
