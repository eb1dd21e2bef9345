package sessions

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests check FormatEncrypted against an independent implementation
// of the same format in Python (testdata/peers/encrypted_peer.py, with the
// `cryptography` package's HKDF, AES-CTR and HMAC), in both directions.

const encryptedPeer = "testdata/peers/encrypted_peer.py"

type encOp struct {
	Op      string   `json:"op"`
	Secret  string   `json:"secret,omitempty"`
	Secrets []string `json:"secrets,omitempty"`
	Name    string   `json:"name"`
	Payload string   `json:"payload,omitempty"`
	Issued  int64    `json:"issued,omitempty"`
	Date    int64    `json:"date,omitempty"`
	Value   string   `json:"value,omitempty"`
	MaxAge  int64    `json:"max_age,omitempty"`
}

type encResult struct {
	Hash    string `json:"hash"`
	Block   string `json:"block"`
	Value   string `json:"value"`
	Payload string `json:"payload"`
	Issued  int64  `json:"issued"`
	Error   string `json:"error"`
}

func runEncrypted(t *testing.T, ops ...encOp) []encResult {
	t.Helper()
	for i := range ops {
		if ops[i].Name == "" {
			ops[i].Name = DefaultCookieName
		}
		if ops[i].Op == "open" && ops[i].Secrets == nil {
			ops[i].Secrets = []string{ixKey}
		}
		if ops[i].Secret == "" && ops[i].Op != "open" {
			ops[i].Secret = ixKey
		}
		if ops[i].MaxAge == 0 {
			ops[i].MaxAge = int64(DefaultMaxAge / time.Second)
		}
	}
	return ixPeer[encOp, encResult](t, "python3", encryptedPeer, ops)
}

func TestEncryptedKeyDerivationMatchesPython(t *testing.T) {
	t.Parallel()
	out := runEncrypted(t, encOp{Op: "keys", Name: "sid"}, encOp{Op: "keys", Name: "other"})
	for i, name := range []string{"sid", "other"} {
		hk, bk, err := encryptionKeys([]byte(ixKey), name)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(hk) != out[i].Hash || hex.EncodeToString(bk) != out[i].Block {
			t.Errorf("keys for %q: Go %x %x, Python %s %s", name, hk, bk, out[i].Hash, out[i].Block)
		}
		if hex.EncodeToString(hk) == hex.EncodeToString(bk) {
			t.Errorf("hash and block keys are equal")
		}
	}
	if out[0].Hash == out[1].Hash {
		t.Errorf("keys do not depend on the cookie name")
	}
}

func TestEncryptedInteropRoundTrip(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatEncrypted})
	now := time.Now().Unix()
	out := runEncrypted(t, encOp{Op: "seal", Payload: `{"user":"ann","n":41,"secret":"hunter2"}`, Issued: now - 60, Date: now})
	want := map[string]any{"user": "ann", "n": json41, "secret": "hunter2"}
	if got := ixServe(t, m, out[0].Value, nil); !reflect.DeepEqual(got.Values, want) {
		t.Errorf("Go read Python's cookie as %#v, want %#v", got.Values, want)
	}
	if d, err := m.codec.Decode(out[0].Value, time.Now()); err != nil || d.Issued.Unix() != now-60 {
		t.Errorf("Issued = %v, %v; want %d", d.Issued, err, now-60)
	}

	res := ixServe(t, m, out[0].Value, func(r *http.Request, s *Session) {
		if err := LoginKeep(r.Context(), "ann-id", "user", "secret"); err != nil {
			t.Error(err)
		}
		s.Set("n", 42)
	})
	if !res.Set {
		t.Fatal("Go set no cookie")
	}
	// The payload is hidden: no part of the cookie, decoded, shows it.
	raw, _ := base64.URLEncoding.DecodeString(res.Cookie)
	if strings.Contains(string(raw), "hunter2") || strings.Contains(res.Cookie, "hunter2") {
		t.Errorf("encrypted cookie shows its payload: %q", raw)
	}
	back := runEncrypted(t, encOp{Op: "open", Value: res.Cookie})
	if back[0].Error != "" {
		t.Fatalf("Python could not open Go's cookie: %s", back[0].Error)
	}
	got, err := parseObject([]byte(back[0].Payload))
	if err != nil {
		t.Fatal(err)
	}
	if got["n"] != json42 || got["secret"] != "hunter2" || got[ReservedKey].(map[string]any)["uid"] != "ann-id" {
		t.Errorf("Python opened %s", back[0].Payload)
	}
	if d := back[0].Issued - time.Now().Unix(); d > 1 || d < -60 {
		t.Errorf("Python read issue time %d, want about now", back[0].Issued)
	}
}

func TestEncryptedInteropRejects(t *testing.T) {
	t.Parallel()
	m := ixNew(t, SessionConfig{Format: FormatEncrypted})
	now := time.Now().Unix()
	old := ixDaysAgo(15).Unix()
	p := `{"k":"v"}`
	out := runEncrypted(t,
		encOp{Op: "seal", Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Secret: ixWrong, Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Payload: p, Issued: old, Date: now},
		encOp{Op: "seal", Payload: p, Issued: old, Date: old},
		encOp{Op: "seal", Name: "other", Payload: p, Issued: now, Date: now},
		encOp{Op: "seal", Payload: `{"k":"v","k":"w"}`, Issued: now, Date: now},
	)
	if _, err := m.Decode(out[0].Value); err != nil {
		t.Fatalf("Go rejected Python's good cookie: %v", err)
	}
	// A plaintext cookie of the default format, same key and name: never
	// read by an encrypted configuration.
	plain, err := ixNew(t, SessionConfig{}).Encode(map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	ixWantRejected(t, m, "Python", []ixBadCookie{
		{"tampered", ixTamper(out[0].Value), ErrInvalidCookie},
		{"wrong key", out[1].Value, ErrBadSignature},
		{"issued 15 days ago", out[2].Value, ErrExpired},
		{"sealed 15 days ago", out[3].Value, ErrExpired},
		{"other cookie name", out[4].Value, ErrBadSignature},
		{"duplicate JSON key", out[5].Value, ErrMalformed},
		{"plaintext itsdangerous", plain, ErrInvalidCookie},
	})

	k := map[string]any{"k": "v"}
	cases := ixGoCookies(t, m, k)
	var ops []encOp
	for _, tc := range cases {
		ops = append(ops, encOp{Op: "open", Value: tc.value})
	}
	for i, r := range runEncrypted(t, ops...) {
		if accepted := r.Error == "" && strings.Contains(r.Payload, `"k":"v"`); accepted != cases[i].accept {
			t.Errorf("Python opened Go's %s cookie: %+v, want accepted=%v", cases[i].name, r, cases[i].accept)
		}
	}
}

func TestEncryptedInteropKeyRotation(t *testing.T) {
	t.Parallel()
	now := time.Now().Unix()
	out := runEncrypted(t, encOp{Op: "seal", Secret: ixOld, Payload: `{"k":"v"}`, Issued: now, Date: now})
	m := ixNew(t, SessionConfig{Format: FormatEncrypted, SecretKey: ixKey, FallbackKeys: []string{ixOld}})
	res := ixServe(t, m, out[0].Value, nil)
	if res.Values["k"] != "v" || !res.Set {
		t.Fatalf("Go with the fallback key: values %v, re-encrypted %v", res.Values, res.Set)
	}
	check := runEncrypted(t, encOp{Op: "open", Value: res.Cookie}, encOp{Op: "open", Value: out[0].Value})
	if check[0].Error != "" {
		t.Errorf("Python on the new key rejected Go's re-encrypted cookie: %s", check[0].Error)
	}
	if check[1].Error == "" {
		t.Errorf("Python on the new key opened the old cookie")
	}
}
