package sessionstest

import (
	"fmt"
	"sync"
	"testing"
)

// This file holds RunMiddleware's tests: overlapping requests of one
// session, merged by the middleware through Update's compare-and-set.

func testMergeDifferentKeys(t *testing.T, h *harness) {
	c := h.start("set", "x=0", "set", "old=1")
	h.overlap(c, []string{"set", "a=A", "del", "old"}, []string{"set", "b=B"})
	checkValues(t, "after A changed a and old, B changed b", h.must(c), map[string]string{"x": "0", "a": "A", "b": "B"})
}

func testMergeSameKey(t *testing.T, h *harness) {
	c := h.start("set", "k=0")
	h.overlap(c, []string{"set", "k=A"}, []string{"set", "k=B"})
	checkValues(t, "after B then A set k", h.must(c), map[string]string{"k": "A"})
}

func testMergeDeleted(t *testing.T, h *harness) {
	c := h.start("set", "k=1", "set", "j=1")
	h.overlap(c, []string{"set", "j=2"}, []string{"del", "k"})
	checkValues(t, "after B deleted k and A, which had loaded it, set j", h.must(c), map[string]string{"j": "2"})
}

func testMergeDeletedSetAgain(t *testing.T, h *harness) {
	c := h.start("set", "k=1", "set", "x=0")
	h.overlap(c, []string{"set", "k=2"}, []string{"del", "k"})
	checkValues(t, "after B deleted k and A set it", h.must(c), map[string]string{"k": "2", "x": "0"})
}

// An emptied session is a change like any other: a key another request
// adds meanwhile survives it.
func testMergeEmptied(t *testing.T, h *harness) {
	c := h.start("set", "k=1")
	h.overlap(c, []string{"set", "j=2"}, []string{"del", "k"})
	checkValues(t, "after B emptied the session and A set j", h.must(c), map[string]string{"j": "2"})
}

func testMergeReadOnly(t *testing.T, h *harness) {
	c := h.start("set", "k=1")
	_, _, writes := h.overlap(c, nil, []string{"set", "k=2"})
	if writes != 0 {
		t.Errorf("a read-only request wrote to the store %d times; want 0", writes)
	}
	checkValues(t, "after B set k while A only read", h.must(c), map[string]string{"k": "2"})
}

// checkEnded fails the test unless the session of cookie is gone, and a
// cookie the response of a late request set carries no user nor data.
func checkEnded(t *testing.T, h *harness, cookies ...string) {
	t.Helper()
	for _, c := range cookies {
		if c == "" {
			continue
		}
		st := h.must(c)
		if st.User != "" || len(st.Values) != 0 {
			t.Fatalf("a logged-out session came back: user %q, values %v", st.User, st.Values)
		}
	}
}

func testMergeLogout(t *testing.T, h *harness) {
	c := h.startLoggedIn()
	sa, _, _ := h.overlap(c, []string{"set", "k=A"}, []string{"logout", "1"})
	checkEnded(t, h, c, sa.cookie)
}

func testMergeLogoutFirst(t *testing.T, h *harness) {
	c := h.startLoggedIn()
	_, sb, _ := h.overlap(c, []string{"logout", "1"}, []string{"set", "k=B"})
	checkEnded(t, h, c, sb.cookie)
}

// startLoggedIn creates a session logged in as alice, holding x=0.
func (h *harness) startLoggedIn() string {
	h.t.Helper()
	c := h.start("login", "alice", "set", "x=0")
	if st := h.must(c); st.User != "alice" || st.Values["x"] != "0" {
		h.t.Fatalf("after Login: user %q, values %v; want alice, x=0", st.User, st.Values)
	}
	return c
}

func testMergeMany(t *testing.T, h *harness) {
	c := h.start("set", "x=0")
	const n = 20
	want := map[string]string{"x": "0"}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		want[fmt.Sprint("k", i)] = fmt.Sprint(i)
		wg.Go(func() {
			_, err := h.do(c, "set", fmt.Sprintf("k%d=%d", i, i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkValues(t, fmt.Sprintf("after %d requests each setting its own key", n), h.must(c), want)
}
