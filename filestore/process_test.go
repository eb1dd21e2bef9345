package filestore_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctxsession/sessions/filestore"
	"github.com/ctxsession/sessions/sessionstest"
)

// TestProcessUpdater is the child half of TestTwoProcesses: it updates the
// listed sessions over and over, printing "ready" once it has started.
func TestProcessUpdater(t *testing.T) {
	dir := os.Getenv("FILESTORE_CHILD_DIR")
	if dir == "" {
		return
	}
	s, err := filestore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "ids.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(string(b))
	os.Stdout.WriteString("ready\n")
	for round := range 30 {
		for _, id := range ids {
			r := rec(id, "child", time.Hour)
			r.UserID = "u"
			if _, err := s.Update(context.Background(), r); err != nil {
				t.Fatalf("round %d: Update: %v", round, err)
			}
		}
	}
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessUpdater$")
	cmd.Env = append(os.Environ(), "FILESTORE_CHILD_DIR="+dir)
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
