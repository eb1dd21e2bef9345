package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// secVerifiesWith reports which of the given keys alone verify a cookie of
// cfg's shape (cookie or store mode), by sending it to a Middleware that
// has only that key.
func secVerifiesWith(t *testing.T, cfg SessionConfig, cookie string, keys ...string) []string {
	t.Helper()
	name := cfg.CookieName
	if name == "" {
		name = DefaultCookieName
	}
	var ok []string
	for _, k := range keys {
		c := cfg
		c.SecretKey, c.FallbackKeys = k, nil
		if seen := secLoad(t, secNew(t, c), name+"="+cookie); seen.UserID == "alice" {
			ok = append(ok, k)
		}
	}
	return ok
}

func TestSecurityKeysFallbackAcceptedAndResigned(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			base := SessionConfig{CookieName: "session"}
			if mode == "store" {
				base.Store = newSecMapStore()
			}
			oldCfg := base
			oldCfg.SecretKey = secOldKey
			old := secIssue(t, secNew(t, oldCfg), "alice", nil)

			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = secKey, []string{secOtherKey, secOldKey}
			m := secNew(t, cfg)
			var seen secSeen
			w := secServe(m, secProbe(&seen, nil), "session="+old)
			if seen.UserID != "alice" {
				t.Fatalf("cookie signed with a fallback key: user %q, want alice", seen.UserID)
			}
			fresh, ok := secSetCookie(t, w, "session")
			if !ok || fresh == "" {
				t.Fatal("a cookie signed with a fallback key was not re-signed on the same response")
			}
			if got := secVerifiesWith(t, base, fresh, secKey, secOtherKey, secOldKey); len(got) != 1 || got[0] != secKey {
				t.Errorf("re-signed cookie verifies with %d keys (%v), want SecretKey only", len(got), got)
			}
		})
	}
}

// Flask 3.1.0 (CVE-2025-47278) signed with the last fallback key instead of
// the current one. Every cookie the middleware emits must verify with
// SecretKey alone and with no fallback key.
func TestSecurityKeysSigningNeverUsesFallback(t *testing.T) {
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			base := SessionConfig{}
			if mode == "store" {
				base.Store = newSecMapStore()
			}
			cfg := base
			cfg.SecretKey, cfg.FallbackKeys = secKey, []string{secOtherKey, secOldKey}
			m := secNew(t, cfg)
			check := func(what, c string) {
				t.Helper()
				if got := secVerifiesWith(t, base, c, secKey, secOtherKey, secOldKey); len(got) != 1 || got[0] != secKey {
					t.Errorf("%s cookie verifies with %d keys (%v), want SecretKey only", what, len(got), got)
				}
			}
			fresh := secIssue(t, m, "alice", nil)
			check("new", fresh)
			changed := secIssue(t, m, "", map[string]any{"x": 1}, "session="+fresh)
			check("changed", changed)
			relogged := secIssue(t, m, "alice", nil, "session="+changed)
			check("regenerated", relogged)
			if mode == "cookie" {
				minted, err := m.Encode(map[string]any{"k": "v"})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{secKey, secOtherKey, secOldKey} {
					_, err := secNew(t, SessionConfig{SecretKey: k}).Decode(context.Background(), minted)
					if (err == nil) != (k == secKey) {
						t.Errorf("Encode output, key %.20s...: Decode err = %v", k, err)
					}
				}
			}
		})
	}
}

func TestSecurityKeysRetiredKeyRejected(t *testing.T) {
	old := secIssue(t, secNew(t, SessionConfig{SecretKey: secOldKey}), "alice", nil)
	// During rotation it is accepted...
	rotating := secNew(t, SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOldKey}})
	if seen := secLoad(t, rotating, "session="+old); seen.UserID != "alice" {
		t.Fatalf("during rotation: user %q, want alice", seen.UserID)
	}
	// ...and once the key is dropped, rejected.
	retired := secNew(t, SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOtherKey}})
	if seen := secLoad(t, retired, "session="+old); seen.UserID != "" {
		t.Errorf("retired key: user %q, want none", seen.UserID)
	}
	if _, err := retired.Decode(context.Background(), old); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Decode with a retired key = %v, want ErrBadSignature", err)
	}
}

func TestSecurityKeysWeakOrEmptyRefused(t *testing.T) {
	short := strings.Repeat("k", MinKeyLength-1)
	cases := []struct {
		name string
		cfg  SessionConfig
		want error
	}{
		{"empty", SessionConfig{}, ErrNoSecretKey},
		{"one byte", SessionConfig{SecretKey: "k"}, ErrWeakKey},
		{"one byte short", SessionConfig{SecretKey: short}, ErrWeakKey},
		{"empty fallback", SessionConfig{SecretKey: secKey, FallbackKeys: []string{""}}, ErrWeakKey},
		{"short fallback", SessionConfig{SecretKey: secKey, FallbackKeys: []string{secOldKey, short}}, ErrWeakKey},
		{"store mode, empty", SessionConfig{Store: newSecMapStore()}, ErrNoSecretKey},
	}
	for _, c := range cases {
		m, err := New(c.cfg)
		if m != nil || !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want nil, %v (matching ErrInvalidConfig)", c.name, m, err, c.want)
		}
	}
	if _, err := New(SessionConfig{SecretKey: strings.Repeat("k", MinKeyLength)}); err != nil {
		t.Errorf("New with a %d-byte key: %v", MinKeyLength, err)
	}
}
