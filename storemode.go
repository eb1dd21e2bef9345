package sessions

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// storeMode keeps the session in a Store; the cookie carries the session id
// signed with its own salt. The Store sees storeKey(id), never the id.
type storeMode struct {
	m     *Middleware
	store Store
	ids   *signer // signs the session id
}

func newStoreMode(m *Middleware, store Store, keys [][]byte, cookieName string) *storeMode {
	return &storeMode{m: m, store: store, ids: newSigner(keys, "ctxsession-id:"+cookieName, digestSHA256, deriveHMAC)}
}

// maxWriteAttempts bounds how often a save retries after another request
// wrote the same record in between (ErrConflict). Between attempts a save
// waits a random moment that grows with the attempt (at most a few
// milliseconds in all), so that many overlapping requests of one session
// take turns instead of colliding again.
const maxWriteAttempts = 16

// backoff waits before retry attempt n (1, 2, ...), or until ctx is done.
func backoff(ctx context.Context, n int) error {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(n) * int64(250*time.Microsecond))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// load verifies a store-mode cookie and loads its record.
func (sm *storeMode) load(ctx context.Context, value string, now time.Time) (loaded, error) {
	m := sm.m
	if m.tooLarge(value) {
		return loaded{}, malformed("cookie too large")
	}
	id, issued, stale, err := sm.unsignID(value)
	if err != nil {
		return loaded{}, err
	}
	if err := m.checkAge(issued, now); err != nil {
		return loaded{}, err
	}
	key := storeKey(id)
	rec, found, err := sm.store.Find(ctx, key)
	if err != nil {
		return loaded{}, fmt.Errorf("%w: find: %w", ErrStore, err)
	}
	if !found {
		return loaded{}, ErrRevoked
	}
	l := loaded{issued: issued, stale: stale, ref: sessionRef{id: id, version: rec.Version, user: rec.UserID}, id: key}
	if err := m.checkPayload(&l, rec.Data, false, now); err != nil {
		return loaded{}, err
	}
	return l, nil
}

// save creates a record for a new session (the zero ref) or updates the
// session's record, and returns the signed id. An update names the version
// this request read; when another request wrote in between, the record is
// read again, this request's changes are applied to it, and the write is
// tried again. A snapshot with no changes (an idle refresh) writes nothing
// then: the other write has extended the record already.
func (sm *storeMode) save(ctx context.Context, ref sessionRef, snap snapshot, now, exp time.Time) (sessionRef, string, *loaded, error) {
	rec := Record{Data: snap.payload, TTL: max(exp.Sub(now), time.Millisecond), UserID: snap.userID}
	if ref.id == "" {
		id := snap.secret // chosen when the session got its ID
		if id == "" {
			id = newSessionID()
		}
		rec.ID = storeKey(id)
		if err := sm.store.Create(ctx, rec); err != nil {
			return ref, "", nil, fmt.Errorf("%w: create: %w", ErrStore, err)
		}
		return sessionRef{id: id, version: 1, user: rec.UserID}, sm.ids.sign([]byte(id), now), nil, nil
	}
	rec.ID, rec.Version = storeKey(ref.id), ref.version
	ref.user = rec.UserID
	var merged *loaded
	for attempt := 1; ; attempt++ {
		found, err := sm.store.Update(ctx, rec)
		switch {
		case err == nil && !found:
			return ref, "", nil, errRecordGone
		case err == nil:
			ref.version = rec.Version + 1
			return ref, sm.ids.sign([]byte(ref.id), now), merged, nil
		case !errors.Is(err, ErrConflict):
			return ref, "", nil, fmt.Errorf("%w: update: %w", ErrStore, err)
		case attempt == maxWriteAttempts:
			return ref, "", nil, fmt.Errorf("%w: update: %d attempts conflicted with other requests", ErrStore, attempt)
		}
		if err := backoff(ctx, attempt); err != nil {
			return ref, "", nil, fmt.Errorf("%w: update: %w", ErrStore, err)
		}
		cur, found, err := sm.store.Find(ctx, rec.ID)
		if err != nil {
			return ref, "", nil, fmt.Errorf("%w: find: %w", ErrStore, err)
		}
		if !found {
			return ref, "", nil, errRecordGone
		}
		if snap.unchanged() {
			ref.version = cur.Version
			return ref, sm.ids.sign([]byte(ref.id), now), nil, nil
		}
		if rec.Data, merged, err = sm.merge(cur.Data, snap); err != nil {
			return ref, "", nil, err
		}
		rec.Version = cur.Version
	}
}

// merge applies snap's changes to current, a record another request wrote,
// and returns the payload to write and the merged session.
func (sm *storeMode) merge(current []byte, snap snapshot) ([]byte, *loaded, error) {
	values, md, err := decodePayload(sm.m.scheme, current)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: merging into the stored session: %w", ErrStore, err)
	}
	ours, _, err := decodePayload(sm.m.scheme, snap.payload)
	if err != nil {
		return nil, nil, fmt.Errorf("sessions: merging: %w", err)
	}
	applyChanges(values, &md, ours, &snap)
	payload, err := encodePayload(make([]byte, 0, len(current)+64), sm.m.scheme, values, md)
	if err != nil {
		return nil, nil, fmt.Errorf("sessions: merging: %w", err)
	}
	return payload, &loaded{values: values, meta: md}, nil
}

// discard deletes the session's record, through OwnerDeleter when the store
// is one.
func (sm *storeMode) discard(ctx context.Context, ref sessionRef) error {
	if ref.id == "" {
		return nil
	}
	var err error
	if od, ok := sm.store.(OwnerDeleter); ok {
		err = od.DeleteOwned(ctx, storeKey(ref.id), ref.user)
	} else {
		err = sm.store.Delete(ctx, storeKey(ref.id))
	}
	if err != nil {
		return fmt.Errorf("%w: delete: %w", ErrStore, err)
	}
	return nil
}

// serverSide is true: the cookie names the record, which can change, or
// go, without a new cookie.
func (sm *storeMode) serverSide() bool { return true }

// destroyUser deletes the user's records through the UserStore's index.
func (sm *storeMode) destroyUser(ctx context.Context, userID string) error {
	us, err := sm.userStore("DestroyUser")
	if err != nil {
		return err
	}
	if err := us.DeleteUser(ctx, userID); err != nil {
		return fmt.Errorf("%w: delete user: %w", ErrStore, err)
	}
	return nil
}

func (sm *storeMode) userStore(op string) (UserStore, error) {
	us, ok := sm.store.(UserStore)
	if !ok {
		return nil, fmt.Errorf("%w: %s needs a Store that is a UserStore, not %T", ErrNotSupported, op, sm.store)
	}
	return us, nil
}

// unsignID verifies a store-mode cookie and returns the session id.
func (sm *storeMode) unsignID(value string) (string, time.Time, bool, error) {
	id, issued, stale, err := sm.ids.unsign(value)
	if err != nil {
		return "", time.Time{}, false, err
	}
	if len(id) != 43 {
		return "", time.Time{}, false, malformed("bad session id")
	}
	return id, issued, stale, nil
}

// newSessionID returns 256 random bits, base64url encoded.
func newSessionID() string {
	var b [32]byte
	crand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return b64.EncodeToString(b[:])
}

// storeKey is the id a Store sees for a session id.
func storeKey(id string) string {
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], id...))
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}
