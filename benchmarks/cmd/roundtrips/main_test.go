package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun counts on a private redis-server and the SQL servers: every
// operation of every store gets a row, a read is the one GET it must be,
// and every store holds every target (one round trip per load and per
// save, Logout's delete and index update in one).
func TestRun(t *testing.T) {
	var out strings.Builder
	stores := []string{"redisstore", "pgstore", "mysqlstore"}
	require.NoError(t, run(&out, 5, "", stores))
	for _, st := range stores {
		for _, op := range ops {
			assert.Contains(t, out.String(), "| "+st+" | "+string(op)+" | ")
		}
	}
	assert.Contains(t, out.String(), "| redisstore | read | 1.00 | 1.00 | get 1.00 |")
	assert.Contains(t, out.String(), "| redisstore | logout | 2.00 |")
	assert.NotContains(t, out.String(), "MISSED")
}

func TestUnknownStore(t *testing.T) {
	var out strings.Builder
	require.ErrorContains(t, run(&out, 1, "127.0.0.1:6379", []string{"nosuchstore"}), `unknown store "nosuchstore"`)
}
