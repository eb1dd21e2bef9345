package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun counts on a private redis-server: every operation gets a row,
// and a read is the one GET it must be.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, 5, "", []string{"redisstore"}))
	for _, op := range ops {
		assert.Contains(t, out.String(), "| redisstore | "+string(op)+" | ")
	}
	assert.Contains(t, out.String(), "| redisstore | read | 1.00 | 1.00 | get 1.00 |")
}

func TestUnknownStore(t *testing.T) {
	var out strings.Builder
	require.ErrorContains(t, run(&out, 1, "127.0.0.1:6379", []string{"nosuchstore"}), `unknown store "nosuchstore"`)
}
