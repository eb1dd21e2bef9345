package filestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
)

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
