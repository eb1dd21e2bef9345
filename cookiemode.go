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

// cookieMode keeps the whole session in the signed (or encrypted) cookie.
// With SessionConfig.RevocationStore, DestroyUser can still end a user's
// cookies: a revocation record per user that logged-in requests look up.
type cookieMode struct{ m *Middleware }

// load checks a cookie-mode value as the middleware does: size, signature,
// MaxAge, IdleTimeout, clock skew, strict JSON, AbsoluteTimeout and, with a
// RevocationStore, DestroyUser.
func (c cookieMode) load(ctx context.Context, value string, now time.Time) (loaded, error) {
	m := c.m
	if m.tooLarge(value) {
		return loaded{}, malformed("cookie too large")
	}
	d, err := m.codec.Decode(value, now)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{issued: d.Issued, stale: d.Stale}
	if err := m.checkAge(l.issued, now); err != nil {
		return loaded{}, err
	}
	if err := m.checkPayload(&l, d.Payload, now); err != nil {
		return loaded{}, err
	}
	if m.cfg.RevocationStore != nil && l.meta.UserID != "" {
		// DestroyUser may have revoked this user's cookies; a lookup
		// failure is a store failure, never an anonymous session.
		if err := c.checkRevoked(ctx, l.meta.UserID, l.meta.Created); err != nil {
			return loaded{}, err
		}
	}
	return l, nil
}

// save encodes the session into a cookie value.
// A payload over maxPayload is refused even when it would compress into a
// cookie: the decoder would not inflate it.
func (c cookieMode) save(_ context.Context, _ sessionRef, snap *snapshot, now, _ time.Time) (sessionRef, string, error) {
	if len(snap.payload) > maxPayload {
		return sessionRef{}, "", c.m.tooLargeError("payload", len(snap.payload), maxPayload, snap.payload)
	}
	value, err := c.m.codec.Encode(snap.payload, now)
	if err != nil {
		return sessionRef{}, "", fmt.Errorf("sessions: encoding cookie: %w", err)
	}
	if c.m.tooLargeToWrite(value) {
		return sessionRef{}, "", c.m.tooLargeError("cookie", c.m.cookieSize(value), MaxCookieSize, snap.payload)
	}
	return sessionRef{}, value, nil
}

// discard has nothing to do: the server keeps nothing of a cookie session.
func (cookieMode) discard(context.Context, sessionRef) error { return nil }

// serverSide is false: every change needs a new cookie.
func (cookieMode) serverSide() bool { return false }

// destroyUser records in the RevocationStore that every session of userID
// created up to now is revoked, for MaxAge (plus ClockSkew), after which
// every such cookie has expired anyway.
func (c cookieMode) destroyUser(ctx context.Context, userID string) error {
	m := c.m
	rs := m.cfg.RevocationStore
	if rs == nil {
		return fmt.Errorf("%w: DestroyUser in cookie mode needs SessionConfig.RevocationStore", ErrNotSupported)
	}
	rec := Record{
		ID:   revocationKey(userID),
		Data: strconv.AppendInt(nil, m.now().UnixNano(), 10),
		TTL:  m.cfg.MaxAge + m.cfg.ClockSkew,
	}
	// Update the record of a user revoked before, else Create it; a
	// concurrent DestroyUser may write it in between, hence the retry.
	for range maxWriteAttempts {
		cur, found, err := rs.Find(ctx, rec.ID)
		if err != nil {
			return fmt.Errorf("%w: revoke: %w", ErrStore, err)
		}
		if !found {
			err = rs.Create(ctx, rec)
		} else {
			rec.Version = cur.Version
			found, err = rs.Update(ctx, rec)
			if err == nil && !found {
				continue // expired in between
			}
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrExists) && !errors.Is(err, ErrConflict) {
			return fmt.Errorf("%w: revoke: %w", ErrStore, err)
		}
	}
	return fmt.Errorf("%w: revoke: record keeps changing", ErrStore)
}

func (cookieMode) userSessions(context.Context, string) ([]string, error) {
	return nil, fmt.Errorf("%w: UserSessions needs a Store that is a UserStore; cookie mode keeps no list", ErrNotSupported)
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
func (c cookieMode) checkRevoked(ctx context.Context, userID string, created time.Time) error {
	rec, found, err := c.m.cfg.RevocationStore.Find(ctx, revocationKey(userID))
	if err != nil {
		return fmt.Errorf("%w: revocation lookup: %w", ErrStore, err)
	}
	if !found {
		return nil
	}
	ns, err := strconv.ParseInt(string(rec.Data), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: revocation record is corrupt: %q", ErrStore, rec.Data)
	}
	// created has whole seconds: a session created in the second of the
	// revocation counts as before it.
	if created.IsZero() || !created.After(time.Unix(0, ns)) {
		return ErrRevoked
	}
	return nil
}
