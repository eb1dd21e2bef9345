package sessions_test

import (
	"errors"
	"testing"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/memstore"
)

// Regressions found in review: each test fails without its fix.

const regressionKey = "0123456789abcdef0123456789abcdef"

func TestRevocationStoreWithStoreIsAConfigError(t *testing.T) {
	ms := memstore.New()
	defer ms.Close()
	_, err := sessions.New(sessions.SessionConfig{SecretKey: regressionKey, Store: ms, RevocationStore: ms})
	if !errors.Is(err, sessions.ErrInvalidConfig) {
		t.Errorf("New = %v, want ErrInvalidConfig", err)
	}
}
