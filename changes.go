package sessions

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"
)

// changes is what one request changed in its session since it was loaded
// (or last saved): a save writes only when something changed, and in store
// mode applies exactly these changes to a record that another request
// wrote meanwhile. Session owns it; every method here is called with s.mu
// held.
type changes struct {
	// keys are the top-level keys set, deleted or cleared, each once; a
	// snapshot may share its array (elements are only ever appended).
	keys    []string
	keysBuf [4]string // keys' first array, so that a few changes cost nothing
	// watched holds, for each key whose map, slice or pointer value a
	// caller may change in place, the value's encoding when it was handed
	// out or last saved; a different encoding now means a change.
	watched map[string][]byte
	meta    bool // flashes changed
	// loadedFlashes is how many leading entries of meta.Flashes came from
	// the cookie or store; the others were added by this request.
	loadedFlashes int
	took          []Flash // loaded flashes consumed by Flashes
	sid           bool    // the session got an id to save, or a new one (Renew)
	remember      bool    // RememberMe changed the choice
	// gen counts changes; a save marks the session clean only if none
	// arrived while it was being written.
	gen uint64
}

// snapshot is a session as a save captured it.
type snapshot struct {
	empty   bool      // nothing worth a cookie or a record
	payload []byte    // the encoded values and metadata
	created time.Time // the creation time the payload records
	userID  string
	keys    []string // keys changed: set when in the payload, deleted when not
	meta    bool     // flashes changed: took consumed, added added
	took    []Flash
	added   []Flash
	gen     uint64
	watched map[string][]byte // the encodings to watch once saved
	// merged is set by a store-mode save that had to merge this request's
	// changes into a record another request wrote: the values and flashes
	// the store now holds.
	merged *loaded
	// The lifecycle: the new record's session id (store mode), the
	// cookie-mode id, the remember-me choice and whether this request
	// changed it, and the time written as last seen (store mode).
	secret          string
	sid             string
	generation      string // the revocation generation Login stamped
	remember        remember
	rememberChanged bool
	seen            time.Time
}

// unchanged reports whether the snapshot holds no change of values or
// flashes (a re-sign or an idle refresh).
func (snap *snapshot) unchanged() bool {
	return len(snap.keys) == 0 && !snap.meta && !snap.rememberChanged
}

// dirty reports whether anything but the keys changed. Call with s.mu held.
func (c *changes) dirty() bool { return c.meta || c.sid || c.remember }

func (s *Session) changedKey(key string) {
	if !s.track.changedKey(key) {
		if s.track.keys == nil {
			s.track.keys = s.track.keysBuf[:0]
		}
		s.track.keys = append(s.track.keys, key)
	}
	delete(s.track.watched, key)
	s.track.gen++
}

// changedKey reports whether key is among the changed keys.
func (c *changes) changedKey(key string) bool { return slices.Contains(c.keys, key) }

func (s *Session) changedMeta() {
	s.track.meta = true
	s.track.gen++
}

// takeFlashes empties the flash queue, remembering which loaded flashes
// were consumed.
func (s *Session) takeFlashes() {
	s.track.took = append(s.track.took, s.meta.Flashes[:s.track.loadedFlashes]...)
	s.track.loadedFlashes = 0
	s.meta.Flashes = nil
	s.changedMeta()
}

// watch notes that the caller now holds v, the value under key, so that an
// in-place change to it counts as a change of key.
func (s *Session) watch(key string, v any) {
	if !mutable(v) {
		return
	}
	if s.track.changedKey(key) {
		return // changed already: saved whatever it holds
	}
	if _, ok := s.track.watched[key]; ok {
		return
	}
	enc, err := appendJSON(nil, v)
	if err != nil {
		s.changedKey(key) // the save reports the error, naming the key
		return
	}
	if s.track.watched == nil {
		s.track.watched = make(map[string][]byte)
	}
	s.track.watched[key] = enc
}

// diff returns the keys changed since the last save, in-place changes to
// watched values included, and the current encodings of the watched values.
func (s *Session) diff() ([]string, map[string][]byte) {
	keys := s.track.keys
	var encs map[string][]byte
	for k, was := range s.track.watched {
		now, err := appendJSON(nil, s.values[k])
		if err != nil || !bytes.Equal(now, was) {
			keys = append(slices.Clip(keys), k) // never into s.track.keys' array
			continue
		}
		if encs == nil {
			encs = make(map[string][]byte, len(s.track.watched))
		}
		encs[k] = now
	}
	return keys, encs
}

// changed reports whether the session changed since it was loaded or last
// saved, including in-place changes to values a caller holds.
func (s *Session) changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, _ := s.diff()
	return s.track.dirty() || len(keys) > 0
}

// changedNames describes the changes for an error message: the keys and,
// when they changed, the flashes.
func (s *Session) changedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, _ := s.diff()
	keys = slices.Sorted(slices.Values(keys))
	if s.track.meta {
		keys = append(keys, "(flashes)")
	}
	if s.track.remember {
		keys = append(keys, "(remember-me)")
	}
	return keys
}

// prepare captures the session for a save when it changed, or when force
// is set (a re-sign or a new identity); ok is false when there is nothing
// to save. A session never saved before gets now as its creation time. An
// encoding error names the key whose value cannot be encoded.
func (s *Session) prepare(now time.Time, force bool) (snap snapshot, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, watched := s.diff()
	if !force && !s.track.dirty() && len(keys) == 0 {
		return snapshot{}, false, nil
	}
	if !s.isEmpty() && s.life.m != nil && s.life.m.idAlways() {
		s.mintIDLocked()
	}
	snap = snapshot{
		empty:   s.isEmpty(),
		created: s.meta.Created,
		userID:  s.meta.UserID,
		keys:    keys,
		meta:    s.track.meta,
		took:    slices.Clone(s.track.took),
		added:   slices.Clone(s.meta.Flashes[s.track.loadedFlashes:]),
		gen:     s.track.gen,

		secret:          s.life.secret,
		sid:             s.meta.SID,
		generation:      s.meta.Generation,
		remember:        s.meta.Remember,
		rememberChanged: s.track.remember,
	}
	if snap.created.IsZero() {
		snap.created = now
	}
	md := s.meta
	md.Created = snap.created
	if s.life.m != nil && s.life.m.backend.serverSide() {
		md.Seen, snap.seen = now, now
	}
	snap.payload, err = encodePayload(make([]byte, 0, 256), s.scheme, s.values, md)
	if err != nil {
		return snap, true, s.encodeError(err)
	}
	// Once saved, what a caller may hold is watched from its saved state:
	// the watched values, and the maps and slices this request set.
	for _, k := range keys {
		if v, ok := s.values[k]; ok && mutable(v) {
			if watched == nil {
				watched = make(map[string][]byte)
			}
			watched[k], _ = appendJSON(nil, v)
		}
	}
	snap.watched = watched
	return snap, true, nil
}

// encodeError names the key whose value failed to encode with err.
func (s *Session) encodeError(err error) error {
	for _, k := range slices.Sorted(maps.Keys(s.values)) {
		if _, kerr := appendJSON(nil, s.values[k]); kerr != nil {
			return fmt.Errorf("sessions: encoding session key %q: %w", k, kerr)
		}
	}
	return fmt.Errorf("sessions: encoding session: %w", err)
}

// markSaved records that snap has been written. A change made since (by a
// goroutine, while the store was being written) keeps the session changed.
// When the save merged this request's changes into another request's
// write, the session takes the other request's values for the keys this
// request did not change.
func (s *Session) markSaved(snap snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta.Created = snap.created
	if snap.gen != s.track.gen {
		return
	}
	if m := snap.merged; m != nil {
		for k := range s.values {
			if _, ok := m.values[k]; !ok {
				delete(s.values, k)
			}
		}
		mine := make(map[string]bool, len(snap.keys))
		for _, k := range snap.keys {
			mine[k] = true
		}
		for k, v := range m.values {
			if !mine[k] {
				s.values[k] = v
			}
		}
		s.meta.Flashes = m.meta.Flashes
	}
	s.track = changes{watched: snap.watched, loadedFlashes: len(s.meta.Flashes), gen: s.track.gen}
}

// resetTo empties the session for RegenerateSession, Login and Logout,
// keeping the named keys, with userID as its user and now as its creation.
func (s *Session) resetTo(keep []string, userID string, fresh bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := make(map[string]any, len(keep))
	for _, k := range keep {
		if v, ok := s.values[k]; ok {
			kept[k] = v
		}
	}
	s.values = kept
	s.meta = meta{Created: now, UserID: userID, Fresh: fresh}
	s.forgetIDLocked()
	s.life.isNew = true
	s.track = changes{gen: s.track.gen}
	for k := range kept {
		s.changedKey(k)
	}
	s.changedMeta()
}

// applyChanges applies snap's changes to values and flashes, a record as
// another request left it, taking this request's values from ours (the
// snapshot's payload, decoded): a key snap changed is set to our value, or
// deleted when we do not have it; the flashes we consumed are removed and
// the flashes we added appended.
func applyChanges(values map[string]any, md *meta, ours map[string]any, snap *snapshot) {
	if snap.rememberChanged {
		md.Remember = snap.remember
	}
	if snap.seen.After(md.Seen) {
		md.Seen = snap.seen
	}
	for _, k := range snap.keys {
		if v, ok := ours[k]; ok {
			values[k] = v
		} else {
			delete(values, k)
		}
	}
	if !snap.meta {
		return
	}
	for _, f := range snap.took {
		if i := slices.Index(md.Flashes, f); i >= 0 {
			md.Flashes = slices.Delete(md.Flashes, i, i+1)
		}
	}
	md.Flashes = append(md.Flashes, snap.added...)
}

// closeRequest closes the session when its request is over: a later change
// is reported to report.
func (s *Session) closeRequest(report lateReporter) {
	s.mu.Lock()
	s.done = report
	s.mu.Unlock()
}

// getRaw is Get for GetAs: it also returns the change count, for adopt.
func (s *Session) getRaw(key string) (any, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if ok {
		s.watch(key, v)
	}
	return v, s.track.gen, ok
}

// adopt replaces the value under key by v, its conversion by GetAs, when
// nothing changed since GetAs read it (gen): the caller now holds v, so it
// is watched from its own encoding, and the conversion alone is no change.
func (s *Session) adopt(key string, gen uint64, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.track.gen != gen {
		return
	}
	s.values[key] = v
	if s.track.changedKey(key) {
		return
	}
	delete(s.track.watched, key)
	s.watch(key, v)
}
