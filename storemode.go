package sessions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	data, found, err := sm.store.Find(ctx, storeKey(id))
	if err != nil {
		return loaded{}, fmt.Errorf("%w: find: %w", ErrStore, err)
	}
	if !found {
		return loaded{}, ErrRevoked
	}
	l := loaded{issued: issued, stale: stale, handle: id}
	if err := m.checkPayload(&l, data, now); err != nil {
		return loaded{}, err
	}
	return l, nil
}

// save creates a record for a new session (handle "") or updates the
// session's record, and returns the signed id.
func (sm *storeMode) save(ctx context.Context, handle string, snap snapshot, now, exp time.Time) (string, string, error) {
	rec := Record{Data: snap.payload, Expiry: wallExpiry(now, exp), UserID: snap.userID}
	if handle == "" {
		id := newSessionID()
		rec.ID = storeKey(id)
		if err := sm.store.Create(ctx, rec); err != nil {
			return "", "", fmt.Errorf("%w: create: %w", ErrStore, err)
		}
		handle = id
	} else {
		rec.ID = storeKey(handle)
		found, err := sm.store.Update(ctx, rec)
		if err != nil {
			return "", "", fmt.Errorf("%w: update: %w", ErrStore, err)
		}
		if !found {
			return "", "", errRecordGone
		}
	}
	return handle, sm.ids.sign([]byte(handle), now), nil
}

// discard deletes the session's record.
func (sm *storeMode) discard(ctx context.Context, handle string) error {
	if handle == "" {
		return nil
	}
	if err := sm.store.Delete(ctx, storeKey(handle)); err != nil {
		return fmt.Errorf("%w: delete: %w", ErrStore, err)
	}
	return nil
}

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

func (sm *storeMode) userSessions(ctx context.Context, userID string) ([]string, error) {
	us, err := sm.userStore("UserSessions")
	if err != nil {
		return nil, err
	}
	ids, err := us.UserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%w: user sessions: %w", ErrStore, err)
	}
	return ids, nil
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
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return b64.EncodeToString(b[:])
}

// storeKey is the id a Store sees for a session id.
func storeKey(id string) string {
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], id...))
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}
