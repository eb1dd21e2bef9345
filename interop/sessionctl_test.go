package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The Python peers mint cookies the way their frameworks do; sessionctl
// must detect each format, decode it without the key and verify it with the
// key. python3 has Flask and itsdangerous; Debian's /usr/bin/python3 has
// Starlette's itsdangerous and PyJWT (.ci/provision.sh installs them).

const flaskPeer = `
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

const debianPeer = `
import base64, json, sys, time
import jwt
from itsdangerous import TimestampSigner
key = sys.argv[1]
now = int(time.time())
# starlette.middleware.sessions.SessionMiddleware writes exactly this.
data = base64.b64encode(json.dumps({"lang": "de", "_ctxsession": {"c": now, "uid": "bea"}}).encode("utf-8"))
print(json.dumps({
    "starlette": TimestampSigner(str(key)).sign(data).decode("utf-8"),
    "jwt": jwt.encode({"lang": "de", "_ctxsession": {"c": now, "uid": "cy"}, "iat": now, "exp": now + 3600}, key, algorithm="HS256"),
}))
`

func peerCookies(t *testing.T, python, script string) map[string]string {
	t.Helper()
	out, err := exec.Command(python, "-c", script, testKey).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s peer: %v\n%s", python, err, msg)
	}
	var cookies map[string]string
	if err := json.Unmarshal(out, &cookies); err != nil {
		t.Fatalf("%s peer printed %q: %v", python, out, err)
	}
	return cookies
}

func TestPythonPeers(t *testing.T) {
	cookies := peerCookies(t, "python3", flaskPeer)
	for k, v := range peerCookies(t, "/usr/bin/python3", debianPeer) {
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
	}
	now := time.Now()
	for _, tt := range tests {
		t.Run(tt.peer, func(t *testing.T) {
			c := cookies[tt.peer]
			if c == "" {
				t.Fatalf("peer minted no %s cookie", tt.peer)
			}
			code, out, errs := ctl(t, now, "", "decode", c)
			if code != 0 {
				t.Fatalf("decode: exit %d, stderr %q", code, errs)
			}
			for _, want := range []string{"format:   " + tt.format + " (detected", "verified: NO", "user:     " + tt.user, tt.value} {
				if !strings.Contains(out, want) {
					t.Errorf("decode output lacks %q:\n%s", want, out)
				}
			}
			code, out, errs = ctl(t, now, "", "verify", "--key", testKey, "--format", tt.format, c)
			if code != 0 {
				t.Fatalf("verify: exit %d, stderr %q", code, errs)
			}
			if !strings.Contains(out, "verified: YES") || !strings.Contains(out, "user:     "+tt.user) {
				t.Errorf("verify output:\n%s", out)
			}
			code, _, errs = ctl(t, now, "", "verify", "--key", otherKey, "--format", tt.format, c)
			if code != 1 || !strings.Contains(errs, "invalid cookie") {
				t.Errorf("verify with another key: exit %d, stderr %q", code, errs)
			}
		})
	}
}
