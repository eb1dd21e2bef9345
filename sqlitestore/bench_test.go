package sqlitestore_test

import (
	"testing"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/sessionstest"
	"github.com/stretchr/testify/require"
)

// payload is a typical session: a user, a CSRF token, a few preferences.
var payload = []byte(`{"_user_id":"alice","_fresh":true,"csrf":"9f86d081884c7d659a2feaa0c55ad015","lang":"en","cart":[1,2,3]}`)

func BenchmarkFind(b *testing.B) {
	s, _, _ := newStore(b)
	ctx := ctxT(b)
	id := sessionstest.NewID()
	require.NoError(b, s.Create(ctx, sessions.Record{ID: id, Data: payload, TTL: time.Hour, UserID: "alice"}))
	for b.Loop() {
		if _, found, err := s.Find(ctx, id); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	s, _, _ := newStore(b)
	ctx := ctxT(b)
	for b.Loop() {
		if err := s.Create(ctx, sessions.Record{ID: sessionstest.NewID(), Data: payload, TTL: time.Hour, UserID: "alice"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, _, _ := newStore(b)
	ctx := ctxT(b)
	rec := sessions.Record{ID: sessionstest.NewID(), Data: payload, TTL: time.Hour, UserID: "alice"}
	require.NoError(b, s.Create(ctx, rec))
	rec.Version = 1
	for b.Loop() {
		if found, err := s.Update(ctx, rec); err != nil || !found {
			b.Fatal(found, err)
		}
		rec.Version++
	}
}
