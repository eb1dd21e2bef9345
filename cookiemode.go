package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
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
	if err := m.checkPayload(&l, d.Payload, d.owned, now); err != nil {
		return loaded{}, err
	}
	if m.cfg.RevocationStore != nil && l.meta.UserID != "" {
		// DestroyUser may have revoked this user's cookies; a lookup
		// failure is a store failure, never an anonymous session.
		if err := c.checkRevoked(ctx, l.meta.UserID, l.meta.Generation, l.meta.SID); err != nil {
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
func (c cookieMode) save(ctx context.Context, ref sessionRef, snap snapshot, now, _ time.Time) (sessionRef, string, *loaded, error) {
	if err := c.recheck(ctx, ref, &snap, now); err != nil {
		return ref, "", nil, err
	}
	value, err := c.encode(snap.payload, now)
	return ref, value, nil, err
}

// encode turns a payload into a cookie value.
func (c cookieMode) encode(payload []byte, now time.Time) (string, error) {
	if len(payload) > maxPayload {
		return "", c.m.tooLargeError("payload", len(payload), maxPayload, payload)
	}
	value, err := c.m.codec.Encode(payload, now)
	if err != nil {
		return "", fmt.Errorf("sessions: encoding cookie: %w", err)
	}
	if c.m.tooLargeToWrite(value) {
		return "", c.m.tooLargeError("cookie", c.m.cookieSize(value), MaxCookieSize, payload)
	}
	return value, nil
}

// discard has nothing to do: the server keeps nothing of a cookie session.
func (cookieMode) discard(context.Context, sessionRef) error { return nil }

// serverSide is false: every change needs a new cookie.
func (cookieMode) serverSide() bool { return false }

// Revocation in cookie mode does not compare clocks. The RevocationStore
// keeps, per user, a generation "<epoch>.<n>": epoch is random, chosen when
// DestroyUser first creates the record, and n counts the DestroyUser calls
// since, each one an Update that compares and sets the record's Version.
// Login stamps the generation it finds into the session (meta.Generation,
// ReservedKey's "g"; nothing when there is no record), and a logged-in
// cookie is revoked when the user has a record and the cookie's stamp is
// of another epoch or of a lower n. The epoch keeps this true across a
// record's expiry: a record created anew has an epoch no cookie carries,
// so every cookie issued before it is revoked, whatever counter it holds.

// generation is a parsed revocation generation.
type generation struct {
	epoch string
	n     uint64
}

func (g generation) String() string { return g.epoch + "." + strconv.FormatUint(g.n, 10) }

// parseGeneration reads "<epoch>.<n>". A record of version 0.1.0 holds a
// revocation time in Unix nanoseconds instead: it reads as the epoch of
// that number with n 0, which revokes every cookie logged in before this
// version, as that record meant to revoke the cookies logged in before it.
func parseGeneration(s string) (generation, bool) {
	epoch, num, ok := strings.Cut(s, ".")
	if !ok {
		_, err := strconv.ParseInt(s, 10, 64)
		return generation{epoch: s}, err == nil
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || epoch == "" {
		return generation{}, false
	}
	return generation{epoch: epoch, n: n}, true
}

// revocationTTL is how long a revocation record lives after DestroyUser:
// MaxAge plus ClockSkew, after which every cookie written before it has
// expired anyway (a revoked cookie is never re-signed).
func (m *Middleware) revocationTTL() time.Duration {
	return addDurations(m.cfg.MaxAge, m.cfg.ClockSkew)
}

// destroyUser moves userID's generation on in the RevocationStore, which
// revokes every cookie of userID logged in before.
func (c cookieMode) destroyUser(ctx context.Context, userID string) error {
	if c.m.cfg.RevocationStore == nil {
		return fmt.Errorf("%w: DestroyUser in cookie mode needs SessionConfig.RevocationStore", ErrNotSupported)
	}
	return c.modifyRevocation(ctx, userID, func(r *revocation, now time.Time) { r.bump(now) })
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

// findRevocation reads userID's revocation record; a lookup failure or an
// unreadable record is an ErrStore error.
func (c cookieMode) findRevocation(ctx context.Context, userID string) (revocation, bool, error) {
	rec, found, err := c.m.cfg.RevocationStore.Find(ctx, revocationKey(userID))
	if err != nil {
		return revocation{}, false, fmt.Errorf("%w: revocation lookup: %w", ErrStore, err)
	}
	if !found {
		return revocation{}, false, nil
	}
	r, err := decodeRevocation(rec.Data)
	return r, err == nil, err
}

// currentGeneration returns userID's generation in the RevocationStore;
// found is false when DestroyUser has not run for userID.
func (c cookieMode) currentGeneration(ctx context.Context, userID string) (generation, bool, error) {
	r, found, err := c.findRevocation(ctx, userID)
	if err != nil || !found || r.gen.epoch == "" {
		return generation{}, false, err
	}
	return r.gen, true, nil
}

// checkRevoked returns ErrRevoked when userID's record revokes the session
// whose Login stamped stamp and whose id is sid (DestroyUser moved the
// generation on, or Logout and the like listed the id; see revocation.go),
// and an ErrStore error when the RevocationStore fails or holds something
// unreadable.
func (c cookieMode) checkRevoked(ctx context.Context, userID, stamp, sid string) error {
	r, found, err := c.findRevocation(ctx, userID)
	if err != nil || !found {
		return err
	}
	return r.check(stamp, sid)
}

// loginGeneration returns the generation Login stamps into the session it
// gives userID, in cookie mode with a RevocationStore ("" otherwise, or
// when userID has no record). When the session already belongs to userID
// (a Login that renews the identity), its stamp passed checkRevoked in this
// request and is reused: no second lookup.
func (st *requestState) loginGeneration(s *Session, userID string) (string, error) {
	c, ok := st.m.backend.(cookieMode)
	if !ok || st.m.cfg.RevocationStore == nil {
		return "", nil
	}
	s.mu.Lock()
	prev := s.meta
	s.mu.Unlock()
	if prev.UserID == userID {
		return prev.Generation, nil
	}
	g, found, err := c.currentGeneration(st.req.Context(), userID)
	if err != nil || !found {
		return "", err
	}
	return g.String(), nil
}

// setGeneration records the generation Login found (see loginGeneration).
func (s *Session) setGeneration(g string) {
	s.mu.Lock()
	s.meta.Generation = g
	s.mu.Unlock()
}
