package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
		if err := c.checkRevoked(ctx, l.meta.UserID, l.meta.Created, l.meta.SID); err != nil {
			return loaded{}, err
		}
		l.ref.checked = now
	}
	l.id = l.meta.SID
	return l, nil
}

// save encodes the session into a cookie value.
// A payload over maxPayload is refused even when it would compress into a
// cookie: the decoder would not inflate it.
func (c cookieMode) save(ctx context.Context, ref sessionRef, snap *snapshot, now, _ time.Time) (sessionRef, string, error) {
	if err := c.recheck(ctx, ref, snap, now); err != nil {
		return ref, "", err
	}
	if len(snap.payload) > maxPayload {
		return sessionRef{}, "", c.m.tooLargeError("payload", len(snap.payload), maxPayload, snap.payload)
	}
	value, err := c.m.codec.Encode(snap.payload, now)
	if err != nil {
		return sessionRef{}, "", fmt.Errorf("sessions: encoding cookie: %w", err)
	}
	if c.m.tooLarge(value) {
		size := len(c.m.cfg.CookieName) + 1 + len(value)
		return sessionRef{}, "", c.m.tooLargeError("cookie", size, MaxCookieSize, snap.payload)
	}
	return ref, value, nil
}

// discard has nothing to do: the server keeps nothing of a cookie session.
func (cookieMode) discard(context.Context, sessionRef) error { return nil }

// serverSide is false: every change needs a new cookie.
func (cookieMode) serverSide() bool { return false }

// destroyUser records in the RevocationStore that every session of userID
// created up to now is revoked, for MaxAge (plus ClockSkew), after which
// every such cookie has expired anyway.
func (c cookieMode) destroyUser(ctx context.Context, userID string) error {
	if c.m.cfg.RevocationStore == nil {
		return fmt.Errorf("%w: DestroyUser in cookie mode needs SessionConfig.RevocationStore", ErrNotSupported)
	}
	return c.modifyRevocation(ctx, userID, func(r *revocation, now time.Time) { r.destroyed = now })
}

func (cookieMode) userSessions(context.Context, string) ([]SessionInfo, error) {
	return nil, fmt.Errorf("%w: UserSessions needs a Store that is a UserStore; cookie mode keeps no list", ErrNotSupported)
}

// revocationKey is the RevocationStore key of a user: a hash, so that the
// store's keys do not reveal user ids and always have a safe shape.
func revocationKey(userID string) string {
	sum := sha256.Sum256([]byte("ctxsession-revoked:" + userID))
	return hex.EncodeToString(sum[:])
}

// checkRevoked returns ErrRevoked when userID's revocation record revokes
// the session created at created with id sid (DestroyUser, or Logout and
// the like; see revocation.go), and an ErrStore error when the
// RevocationStore fails or holds something unreadable.
func (c cookieMode) checkRevoked(ctx context.Context, userID string, created time.Time, sid string) error {
	rec, found, err := c.m.cfg.RevocationStore.Find(ctx, revocationKey(userID))
	if err != nil {
		return fmt.Errorf("%w: revocation lookup: %w", ErrStore, err)
	}
	if !found {
		return nil
	}
	r, err := decodeRevocation(rec.Data)
	if err != nil {
		return err
	}
	return r.check(created, sid)
}
