package sqlitestore_test

import (
	"testing"

	"github.com/ctxsession/sessions/internal/sqlkit/sqltest"
)

func BenchmarkFind(b *testing.B) {
	s, _, _ := newStore(b)
	sqltest.BenchFind(b, s)
}

func BenchmarkCreate(b *testing.B) {
	s, _, _ := newStore(b)
	sqltest.BenchCreate(b, s)
}

func BenchmarkUpdate(b *testing.B) {
	s, _, _ := newStore(b)
	sqltest.BenchUpdate(b, s)
}
