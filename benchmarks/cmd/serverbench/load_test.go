package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWrk(t *testing.T) {
	r, err := parseWrk("Running 1s test\nRESULT requests=1234 duration_us=1000000 p50_us=210 p99_us=1460 errors=0\n")
	require.NoError(t, err)
	assert.Equal(t, int64(1234), r.requests)
	assert.Equal(t, time.Second, r.duration)
	assert.Equal(t, 210*time.Microsecond, r.p50)
	assert.Equal(t, 1460*time.Microsecond, r.p99)
	_, err = parseWrk("wrk: connection refused")
	require.Error(t, err)
}

func TestScript(t *testing.T) {
	path, err := writeScript([]string{"session=a.b", `session=x"y`})
	require.NoError(t, err)
	defer os.Remove(path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"session=a.b",`)
	assert.Contains(t, string(b), `"session=x\"y",`)
	assert.Contains(t, string(b), "function request()")
	assert.True(t, strings.Contains(string(b), "RESULT requests="))
}
