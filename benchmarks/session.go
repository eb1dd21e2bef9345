// Package benchmarks measures this module's session middleware against
// gorilla/sessions and alexedwards/scs on realistic sessions: the
// implementations and workloads defined here are run by the benchmarks of
// this package (through httptest), by cmd/serverbench (a real server under
// wrk) and by cmd/roundtrips (store round trips per operation).
package benchmarks

import (
	"encoding/gob"
	"fmt"
	"math/rand/v2"
)

// The keys every session holds.
const (
	KeyUser    = "uid"  // a user id, an int
	KeyCSRF    = "csrf" // a 32-character token, what the read workload reads
	KeyCounter = "n"    // a counter, an int, what the write workload increments
)

// The values of those keys in every seeded session.
const (
	ValUser    = 4217
	ValCSRF    = "q7MbX2vKfR9tLwZp4cYhN8sJdE3gUa6B"
	ValCounter = 7
)

// A KV is one key of a session and its value.
type KV struct {
	Key   string
	Value any
}

// A Session is a session's data, as its new workload sets it.
type Session struct {
	Name   string
	Values []KV
}

// The sessions the workloads run on.
var (
	// Small is the common session: a user id, a CSRF token and a counter.
	Small = &Session{Name: "3key", Values: base()}
	// Cart is a logged-in shopper's session: the three keys and a cart of
	// ten items, about 1 KB of JSON.
	Cart = &Session{Name: "cart", Values: append(base(), KV{"cart", cart(10)})}
	// NearLimit is about the largest session a cookie carries: its cookie
	// is about 3.5 KB in the formats that do not compress (Starlette,
	// JWT), 2.6 KB of JSON; the default format compresses it. Formats and
	// libraries whose encoding expands it past 4096 bytes cannot carry it
	// (see Impl.Refuses).
	NearLimit = &Session{Name: "near-limit", Values: append(base(),
		KV{"cart", cart(10)},
		KV{"recent", recent(50)},
		KV{"prefs", map[string]any{"lang": "en-GB", "currency": "GBP", "theme": "dark", "tz": "Europe/London", "newsletter": true}},
		KV{"flash", []any{map[string]any{"category": "info", "message": "Your order #100234 has shipped and should arrive on Thursday."}}},
	)}
)

// Sessions are the sessions every workload runs on, smallest first.
var Sessions = []*Session{Small, Cart, NearLimit}

// SessionByName returns the session named name.
func SessionByName(name string) (*Session, error) {
	for _, s := range Sessions {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown session %q (want 3key, cart or near-limit)", name)
}

func base() []KV {
	return []KV{{KeyUser, ValUser}, {KeyCSRF, ValCSRF}, {KeyCounter, ValCounter}}
}

// cart returns n cart items of about 125 bytes of JSON each, the same on
// every call.
func cart(n int) []any {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Merino crew-neck jumper", "Organic cotton T-shirt", "Waxed canvas backpack", "Leather card holder", "Wool-blend beanie", "Selvedge denim jeans", "Linen overshirt", "Suede desert boots"}
	sizes := []string{"XS", "S", "M", "L", "XL"}
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{
			"sku":   fmt.Sprintf("SKU-%06d-%s", rng.IntN(1_000_000), sizes[rng.IntN(len(sizes))]),
			"name":  names[i%len(names)],
			"qty":   1 + rng.IntN(3),
			"price": 999 + rng.IntN(20_000),
			"added": fmt.Sprintf("2025-03-%02dT%02d:%02d:%02dZ", 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60)),
		}
	}
	return out
}

// recent returns n product ids of 22 random base64url characters, the
// same on every call: data that compresses poorly, as ids do.
func recent(n int) []any {
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]any, n)
	for i := range out {
		b := make([]byte, 22)
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		out[i] = string(b)
	}
	return out
}

func init() {
	// gorilla/sessions and scs encode values with encoding/gob, which must
	// know the dynamic types held in interfaces.
	gob.Register([]any{})
	gob.Register(map[string]any{})
}
