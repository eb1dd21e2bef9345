package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Python peers mint cookies the way their frameworks do; the sessionctl
// command, built from this checkout and run as a process, must detect each
// format, decode it without the key and verify it with the key. python3 has
// Flask and itsdangerous; Debian's /usr/bin/python3 has Starlette's
// itsdangerous and PyJWT.

const flaskMint = `
import hashlib, json, sys, time
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
key = sys.argv[1]
app = Flask("peer")
app.secret_key = key
flask = app.session_interface.get_signing_serializer(app)
default = URLSafeTimedSerializer(key, salt="ctxsession:session",
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})
print(json.dumps({
    "flask": flask.dumps({"_user_id": "42", "_fresh": True, "lang": "de"}),
    "flask-zlib": flask.dumps({"_user_id": "43", "notes": "n" * 300}),
    "itsdangerous": default.dumps({"lang": "de", "_ctxsession": {"c": int(time.time()), "uid": "ada"}}),
}))
`

const debianMint = `
import base64, json, sys, time
import jwt
from itsdangerous import TimestampSigner
from django.conf import settings
key = sys.argv[1]
settings.configure(SECRET_KEY=key)
from django.core import signing
from flask import Flask
app = Flask("peer")
app.secret_key = key
flask22 = app.session_interface.get_signing_serializer(app)
now = int(time.time())
# starlette.middleware.sessions.SessionMiddleware writes exactly this.
data = base64.b64encode(json.dumps({"lang": "de", "_ctxsession": {"c": now, "uid": "bea"}}).encode("utf-8"))
print(json.dumps({
    "starlette": TimestampSigner(str(key)).sign(data).decode("utf-8"),
    "jwt": jwt.encode({"lang": "de", "_ctxsession": {"c": now, "uid": "cy"}, "iat": now, "exp": now + 3600}, key, algorithm="HS256"),
    "microdot": jwt.encode({"lang": "de", "_user_id": 12, "_fresh": True}, key, algorithm="HS256"),
    "django": signing.dumps({"lang": "de", "_auth_user_id": "5"}, compress=True,
        salt="django.contrib.sessions.backends.signed_cookies"),
    "flask22": flask22.dumps({"_user_id": "44", "_fresh": True, "lang": "de"}),
}))
`

// mintCookies runs a minting script under python with testKey and returns
// its cookies by name.
func mintCookies(t *testing.T, python, script string) map[string]string {
	t.Helper()
	out, err := exec.Command(python, "-c", script, testKey).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Logf("%s stderr:\n%s", python, ee.Stderr)
	}
	require.NoError(t, err, "%s peer", python)
	var cookies map[string]string
	require.NoError(t, json.Unmarshal(out, &cookies), "%s peer printed %q", python, out)
	return cookies
}

// buildSessionctl builds the sessionctl command into a temporary directory
// and returns a function that runs it, returning its exit code, standard
// output and standard error. SESSION_SECRET_KEY is unset for it.
func buildSessionctl(t *testing.T) func(args ...string) (int, string, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sessionctl")
	build := exec.Command("go", "build", "-o", bin, "github.com/ctxsession/sessions/cmd/sessionctl")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build sessionctl:\n%s", out)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESSION_SECRET_KEY=") {
			env = append(env, kv)
		}
	}
	return func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			require.NoError(t, err, "running sessionctl %q", args)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
}

func TestPythonPeers(t *testing.T) {
	ctl := buildSessionctl(t)
	cookies := mintCookies(t, python3, flaskMint)
	for k, v := range mintCookies(t, debianPython, debianMint) {
		cookies[k] = v
	}
	tests := []struct {
		peer, format, user, value string
	}{
		{"itsdangerous", "itsdangerous", "ada", `"lang": "de"`},
		{"flask", "flask", "42", `"lang": "de"`},
		{"flask-zlib", "flask", "43", strings.Repeat("n", 300)},
		{"starlette", "starlette", "bea", `"lang": "de"`},
		{"jwt", "jwt", "cy", `"lang": "de"`},
		{"microdot", "jwt", "12", `"lang": "de"`},
		{"django", "django", "5", `"lang": "de"`},
		{"flask22", "flask", "44", `"lang": "de"`},
	}
	for _, tt := range tests {
		t.Run(tt.peer, func(t *testing.T) {
			c := cookies[tt.peer]
			require.NotEmpty(t, c, "peer minted no %s cookie", tt.peer)
			code, out, errs := ctl("decode", c)
			require.Zero(t, code, "decode: stderr %q", errs)
			for _, want := range []string{"format:   " + tt.format + " (detected", "verified: NO", "user:     " + tt.user, tt.value} {
				assert.Contains(t, out, want, "decode output")
			}
			code, out, errs = ctl("verify", "--key", testKey, "--format", tt.format, c)
			require.Zero(t, code, "verify: stderr %q", errs)
			assert.Contains(t, out, "verified: YES", "verify output")
			assert.Contains(t, out, "user:     "+tt.user, "verify output")
			// Without --format, verify detects it as decode does.
			code, out, errs = ctl("verify", "--key", testKey, c)
			require.Zero(t, code, "verify without --format: stderr %q", errs)
			assert.Contains(t, out, "verified: YES (format "+tt.format+",", "verify output")
			code, _, errs = ctl("verify", "--key", wrongKey, "--format", tt.format, c)
			assert.Equal(t, 1, code, "verify with another key: stderr %q", errs)
			assert.Contains(t, errs, "invalid cookie", "verify with another key")
			assert.Contains(t, errs, "likely cause: ", "verify with another key")
		})
	}
}
