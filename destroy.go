package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// DestroyUser ends every session of userID ("log out everywhere"), for
// example after a password change.
//
// In store mode it needs a UserStore (memstore, filestore and redisstore
// are) and deletes the user's records through its index, without scanning
// the store; a request of that user that is running meanwhile cannot
// recreate its record. It returns ErrNotSupported when the Store is not a
// UserStore.
//
// In cookie mode it needs SessionConfig.RevocationStore: it records there
// that every session of userID created (logged in) up to now is revoked,
// and from then on the middleware rejects such cookies (ErrRevoked; the
// request gets a new, empty session). A login in the same second as
// DestroyUser is revoked too, since cookies record their login time in
// whole seconds. The revocation is kept for MaxAge, after which every such
// cookie has expired anyway. Without a RevocationStore it returns
// ErrNotSupported: signed cookies cannot be recalled.
//
// A store failure is returned wrapped in ErrStore.
func (m *Middleware) DestroyUser(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	if m.cfg.Store != nil {
		us, ok := m.cfg.Store.(UserStore)
		if !ok {
			return fmt.Errorf("%w: DestroyUser needs a Store that is a UserStore, not %T", ErrNotSupported, m.cfg.Store)
		}
		if err := us.DeleteUser(ctx, userID); err != nil {
			return fmt.Errorf("%w: delete user: %w", ErrStore, err)
		}
		return nil
	}
	rs := m.cfg.RevocationStore
	if rs == nil {
		return fmt.Errorf("%w: DestroyUser in cookie mode needs SessionConfig.RevocationStore", ErrNotSupported)
	}
	now := m.now()
	rec := Record{
		ID:     revocationKey(userID),
		Data:   strconv.AppendInt(nil, now.UnixNano(), 10),
		Expiry: wallExpiry(now, now.Add(m.cfg.MaxAge+m.cfg.ClockSkew)),
	}
	// Update first (a user revoked before), else Create; a concurrent
	// DestroyUser may create it between the two, hence the retry.
	for range 3 {
		found, err := rs.Update(ctx, rec)
		if err != nil {
			return fmt.Errorf("%w: revoke: %w", ErrStore, err)
		}
		if found {
			return nil
		}
		err = rs.Create(ctx, rec)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrExists) {
			return fmt.Errorf("%w: revoke: %w", ErrStore, err)
		}
	}
	return fmt.Errorf("%w: revoke: record keeps changing", ErrStore)
}

// UserSessions returns the storage keys of userID's live sessions (the ids
// the Store sees, not usable as cookies), for showing a user where they are
// logged in or counting sessions. Store.Delete with one of them ends that
// session. It needs a UserStore and returns ErrNotSupported otherwise
// (including in cookie mode, where the server keeps no list).
func (m *Middleware) UserSessions(ctx context.Context, userID string) ([]string, error) {
	us, ok := m.cfg.Store.(UserStore)
	if !ok {
		return nil, fmt.Errorf("%w: UserSessions needs a Store that is a UserStore", ErrNotSupported)
	}
	ids, err := us.UserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: user sessions: %w", ErrStore, err)
	}
	return ids, nil
}

// revocationKey is the RevocationStore key of a user: a hash, so that the
// store's keys do not reveal user ids and always have a safe shape.
func revocationKey(userID string) string {
	sum := sha256.Sum256([]byte("ctxsession-revoked:" + userID))
	return hex.EncodeToString(sum[:])
}

// checkRevoked returns ErrRevoked when DestroyUser revoked userID's
// sessions created at or before created, and an ErrStore error when the
// RevocationStore fails or holds something unreadable.
func (m *Middleware) checkRevoked(ctx context.Context, userID string, created time.Time) error {
	data, found, err := m.cfg.RevocationStore.Find(ctx, revocationKey(userID))
	if err != nil {
		return fmt.Errorf("%w: revocation lookup: %w", ErrStore, err)
	}
	if !found {
		return nil
	}
	ns, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: revocation record is corrupt: %q", ErrStore, data)
	}
	// created has whole seconds: a session created in the second of the
	// revocation counts as before it.
	if created.IsZero() || !created.After(time.Unix(0, ns)) {
		return ErrRevoked
	}
	return nil
}

// wallExpiry converts exp, a time on the middleware's clock (SessionConfig.Now)
// whose current time is now, to the wall clock that stores keep time by, so a
// test clock does not make records expire at once or live forever.
func wallExpiry(now, exp time.Time) time.Time {
	return time.Now().Add(exp.Sub(now))
}
