package filestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
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
