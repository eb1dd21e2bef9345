package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// In cookie mode with a RevocationStore, each user has one revocation
// record (key revocationKey(userID)), so that a logged-in request costs one
// lookup whatever was revoked: DestroyUser's generation (see cookiemode.go:
// every session logged in before it moved on), and the ids of single
// sessions ended by Logout, Renew, Login over a logged-in session and
// DestroySession. An id stays listed until every cookie that
// carries it has expired; expired entries are dropped whenever the record
// is rewritten, and the record's TTL covers its latest entry.

// revocation is a user's revocation record.
type revocation struct {
	// gen is the user's generation (zero: DestroyUser never ran, or its
	// revocation has lapsed), moved on by DestroyUser at genAt.
	gen   generation
	genAt time.Time
	// sessions maps each revoked session id to when its entry lapses.
	sessions map[string]time.Time
}

// maxRevokedSessions bounds the ids one record lists. A user who ends more
// sessions than that within MaxAge has all their sessions revoked instead,
// as DestroyUser does, and the list starts again.
const maxRevokedSessions = 1000

// revocationJSON is the record's encoding: {"g": generation, "gt": Unix
// seconds, "r": {session id: Unix seconds}}. A record holding a bare
// generation is the older form, DestroyUser's alone (see parseGeneration).
type revocationJSON struct {
	Gen      string           `json:"g,omitempty"`
	GenAt    int64            `json:"gt,omitempty"`
	Sessions map[string]int64 `json:"r,omitempty"`
}

func decodeRevocation(data []byte) (revocation, error) {
	var r revocation
	corrupt := fmt.Errorf("%w: revocation record is corrupt: %q", ErrStore, data)
	if len(data) > 0 && data[0] != '{' {
		g, ok := parseGeneration(string(data))
		if !ok {
			return r, corrupt
		}
		r.gen = g
		return r, nil
	}
	var j revocationJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return r, corrupt
	}
	if j.Gen != "" {
		g, ok := parseGeneration(j.Gen)
		if !ok {
			return r, corrupt
		}
		r.gen, r.genAt = g, time.Unix(j.GenAt, 0)
	}
	r.sessions = make(map[string]time.Time, len(j.Sessions))
	for id, s := range j.Sessions {
		r.sessions[id] = time.Unix(s, 0)
	}
	return r, nil
}

func (r *revocation) encode() []byte {
	j := revocationJSON{Sessions: make(map[string]int64, len(r.sessions))}
	if r.gen.epoch != "" {
		j.Gen, j.GenAt = r.gen.String(), r.genAt.Unix()
	}
	for id, t := range r.sessions {
		j.Sessions[id] = t.Unix()
	}
	b, _ := json.Marshal(j) // a struct of numbers and strings: cannot fail
	return b
}

// check returns ErrRevoked when the record revokes a session whose Login
// stamped stamp, with id sid ("" when the cookie carries none).
func (r *revocation) check(stamp, sid string) error {
	if r.gen.epoch != "" {
		g, ok := parseGeneration(stamp)
		if !ok || g.epoch != r.gen.epoch || g.n < r.gen.n {
			return ErrRevoked
		}
	}
	if _, ok := r.sessions[sid]; ok && sid != "" {
		return ErrRevoked
	}
	return nil
}

// bump moves the generation on (DestroyUser): a new random epoch when there
// is none, else one more.
func (r *revocation) bump(now time.Time) {
	if r.gen.epoch == "" {
		var e [8]byte
		rand.Read(e[:])
		r.gen = generation{epoch: hex.EncodeToString(e[:])}
	}
	r.gen.n++
	r.genAt = now
}

// prune drops the entries that lapsed by now, and the generation once
// every session it revoked has expired.
func (r *revocation) prune(m *Middleware, now time.Time) {
	for id, t := range r.sessions {
		if !now.Before(t) {
			delete(r.sessions, id)
		}
	}
	if r.gen.epoch != "" && !now.Before(r.genAt.Add(m.revocationTTL())) {
		r.gen = generation{}
	}
}

// lapses returns when the whole record has lapsed: its latest entry.
func (r *revocation) lapses(m *Middleware) time.Time {
	var t time.Time
	if r.gen.epoch != "" {
		t = r.genAt.Add(m.revocationTTL())
	}
	for _, e := range r.sessions {
		if e.After(t) {
			t = e
		}
	}
	return t
}

// revokeSession lists sid as revoked until every cookie that can carry it
// has expired: a cookie of the session re-issued by a request that loaded
// it before now is signed at most ClockSkew later (a longer request looks
// the session up again before writing; see recheck) and is valid MaxAge
// after that, and ClockSkew more covers a server whose clock runs ahead.
func (r *revocation) revokeSession(m *Middleware, sid string, now time.Time) {
	if r.sessions == nil {
		r.sessions = make(map[string]time.Time)
	}
	if len(r.sessions) >= maxRevokedSessions {
		r.bump(now)
		r.sessions = nil
		return
	}
	r.sessions[sid] = now.Add(m.cfg.MaxAge + 2*m.cfg.ClockSkew)
}

// modifyRevocation applies f to userID's revocation record, creating it if
// needed, with compare-and-set: a concurrent writer makes it read the
// record again and retry.
func (c cookieMode) modifyRevocation(ctx context.Context, userID string, f func(r *revocation, now time.Time)) error {
	m := c.m
	rs := m.cfg.RevocationStore
	key := revocationKey(userID)
	for range maxWriteAttempts {
		now := m.now()
		cur, found, err := rs.Find(ctx, key)
		if err != nil {
			return fmt.Errorf("%w: revoke: %w", ErrStore, err)
		}
		var r revocation
		if found {
			if r, err = decodeRevocation(cur.Data); err != nil {
				return err
			}
		}
		r.prune(m, now)
		f(&r, now)
		rec := Record{ID: key, Data: r.encode(), TTL: max(r.lapses(m).Sub(now), time.Second)}
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

// revoke records sid, a session of userID, as revoked (Logout, Renew,
// DestroySession). Without a RevocationStore, or for a session without a
// user or an id, there is nothing to record.
func (c cookieMode) revoke(ctx context.Context, userID, sid string) error {
	if c.m.cfg.RevocationStore == nil || userID == "" || sid == "" {
		return nil
	}
	return c.modifyRevocation(ctx, userID, func(r *revocation, now time.Time) {
		r.revokeSession(c.m, sid, now)
	})
}

// recheck looks a logged-in session up in the RevocationStore again before
// its cookie is re-issued, when the request loaded it more than ClockSkew
// ago: a long request must not re-issue, with a fresh timestamp, a cookie
// whose revocation may lapse before the cookie does. A revoked session
// gives errRecordGone: nothing is written and no cookie sent.
func (c cookieMode) recheck(ctx context.Context, ref sessionRef, snap *snapshot, now time.Time) error {
	if c.m.cfg.RevocationStore == nil || ref.checked.IsZero() || snap.userID == "" || now.Sub(ref.checked) <= c.m.cfg.ClockSkew {
		return nil
	}
	err := c.checkRevoked(ctx, snap.userID, snap.generation, snap.sid)
	if errors.Is(err, ErrRevoked) {
		return errRecordGone
	}
	return err
}

// newID returns a cookie-mode session id, kept in the session's metadata.
func (cookieMode) newID() (string, string) { return newCookieID(), "" }

// destroySession revokes sessionID for userID. The server keeps no list of
// cookie sessions, so it cannot tell whether sessionID was ever userID's:
// the entry is under userID's record and ends only userID's session with
// that id.
func (c cookieMode) destroySession(ctx context.Context, userID, sessionID string) error {
	if c.m.cfg.RevocationStore == nil {
		return fmt.Errorf("%w: DestroySession in cookie mode needs SessionConfig.RevocationStore", ErrNotSupported)
	}
	if !validCookieID(sessionID) {
		return fmt.Errorf("%w: %q is not a session id", ErrNoSuchSession, sessionID)
	}
	return c.revoke(ctx, userID, sessionID)
}

// validCookieID reports whether id has the shape newCookieID gives.
func validCookieID(id string) bool {
	if len(id) != 22 {
		return false
	}
	_, err := b64.DecodeString(id)
	return err == nil
}
