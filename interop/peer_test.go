package sessions

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// runPeer runs `python script args...` with stdin as its standard input and
// returns its standard output with surrounding white space trimmed. python
// is an interpreter name or path ("python3", "/usr/bin/python3"), script a
// path under testdata/peers. A missing interpreter, a missing module or a
// failing script is a test failure (never a skip): the peer tests prove
// interoperability with the real Python libraries.
func runPeer(t testing.TB, python, script, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("peer %s %s %s: %v\nstderr:\n%s\nstdout:\n%s",
			python, script, strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return strings.TrimSpace(stdout.String())
}
