package filestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/sessionstest"
)

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
