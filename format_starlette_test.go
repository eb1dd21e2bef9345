package sessions

import "testing"

// TestStarletteVectors: a value Starlette 0.26 (with itsdangerous) wrote,
// pinned so that the format stays fixed even where Python is missing.
// Starlette's JSON has spaces, so Go's own value differs.
func TestStarletteVectors(t *testing.T) {
	checkPythonVector(t, FormatStarlette, "eyJrIjogInYiLCAiX2N0eHNlc3Npb24iOiB7ImMiOiAxNzAwMDAwMDAwfX0=.ZVPxAA.mwqaObXmDDFd_nRVSXQ6H9mVjj4", false, map[string]any{"k": "v"})
}
