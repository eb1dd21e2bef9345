package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"
)

// A Session is the data of one user's session during one request. Get it
// with GetSession. Its methods are safe for concurrent use by goroutines the
// handler starts; values obtained through Get are not (a map or slice from
// Get is shared with the session).
//
// Values are the top-level keys of a JSON object. A value read back from a
// cookie is what JSON holds: string, bool, nil, json.Number (numbers stay
// exact), []any or map[string]any. A value set in this request keeps its Go
// type until the response is written. GetAs converts between the two.
//
// Keys the format reserves for its metadata (ReservedKey for the default
// format) are not session keys: Set and Delete ignore them and Get never
// returns them.
type Session struct {
	mu       sync.Mutex
	values   map[string]any
	meta     meta
	modified bool
	// snapshot is the encoded values at the moment a map or slice was first
	// handed out by Get, so an in-place change to it can be detected.
	snapshot []byte
	// shared: a map or slice of the values was handed out (Get) or handed
	// in (Set), so the caller may change it in place after a save.
	shared bool
	// gen counts changes; a save marks the session clean only if no change
	// arrived while it was being written.
	gen    uint64
	scheme scheme
}

// meta is the library's own data in a session, kept under reserved keys.
type meta struct {
	UserID  string
	Created time.Time // creation of the session, reset by Login and RegenerateSession
	Fresh   bool      // set by Login (Flask-Login's _fresh)
	Flashes []Flash
}

// A Flash is a one-time message, shown on the next page a user sees.
type Flash struct {
	Category string `json:"category"`
	Message  string `json:"message"`
}

// Get returns the value stored under key and whether it exists.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if ok && mutable(v) {
		s.shared = true
		if s.snapshot == nil && !s.modified {
			// The caller may change it in place; remember what it was.
			s.snapshot, _ = appendObject(nil, s.values)
		}
	}
	return v, ok
}

// mutable reports whether v can be changed in place by whoever holds it.
func mutable(v any) bool {
	switch v.(type) {
	case nil, string, bool, json.Number, int, int64, float64:
		return false
	case map[string]any, []any, []string:
		return true
	}
	k := reflect.ValueOf(v).Kind()
	return k == reflect.Map || k == reflect.Slice || k == reflect.Pointer
}

// saveMark is what a save captures, under s.mu, when it encodes a session.
type saveMark struct {
	gen  uint64
	snap []byte // the values as encoded, when the caller may hold a map or slice
}

// mark returns the saveMark of the session as it is now. Call with s.mu held.
func (s *Session) mark() saveMark {
	m := saveMark{gen: s.gen}
	if s.shared {
		m.snap, _ = appendObject(nil, s.values)
	}
	return m
}

// saved records that the session as captured by mark has been written. A
// change made since (by a goroutine, while the store was being written)
// keeps the session dirty. Maps and slices the caller holds may still
// change in place, so dirty compares them with the encoded snapshot.
// Call with s.mu held.
func (s *Session) saved(m saveMark) {
	if s.gen != m.gen {
		return
	}
	s.modified = false
	s.snapshot = m.snap
}

// touch records a change. Call with s.mu held.
func (s *Session) touch() {
	s.modified = true
	s.gen++
}

// Set stores value under key. The value must encode to JSON when the
// response is written; if it does not, the error handler receives the error.
func (s *Session) Set(key string, value any) {
	if s.scheme.reserved(key) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[string]any)
	}
	s.values[key] = value
	s.touch()
	if mutable(value) {
		s.shared = true
	}
}

// Delete removes key. Deleting a missing key changes nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; ok {
		delete(s.values, key)
		s.touch()
	}
}

// Clear removes every key. The user id (see Login) and flashes are kept;
// use Logout or RegenerateSession to end the session itself.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) > 0 {
		clear(s.values)
		s.touch()
	}
}

// Keys returns the session's keys, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.values))
}

// Len returns the number of keys.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// UserID returns the id given to Login, or "" for an anonymous session.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta.UserID
}

// Created returns when the session was created (or last logged in). The
// absolute timeout counts from here. It is the zero time for a session that
// was never saved, and the time the cookie was signed for a cookie that
// records no creation time (one minted by another system).
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta.Created
}

// AddFlash queues a message for the next page; Flashes returns and removes
// it. Category is free text ("info", "error", ...; Flask uses "message").
func (s *Session) AddFlash(category, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta.Flashes = append(s.meta.Flashes, Flash{Category: category, Message: message})
	s.touch()
}

// Flashes returns the queued flash messages, oldest first, and removes them.
func (s *Session) Flashes() []Flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.meta.Flashes
	if len(f) > 0 {
		s.meta.Flashes = nil
		s.touch()
	}
	return f
}

// newSession returns the session of a request, holding values (nil: none)
// and md.
func newSession(sc scheme, values map[string]any, md meta) *Session {
	if values == nil {
		values = map[string]any{}
	}
	return &Session{scheme: sc, values: values, meta: md}
}

// isEmpty reports whether there is nothing worth a cookie or a record.
// Call with s.mu held.
func (s *Session) isEmpty() bool {
	return len(s.values) == 0 && s.meta.UserID == "" && len(s.meta.Flashes) == 0
}

// dirty reports whether the session changed since it was loaded, including
// in-place changes to a map or slice handed out by Get. Call with s.mu held.
func (s *Session) dirty() bool {
	if s.modified {
		return true
	}
	if s.snapshot != nil {
		now, err := appendObject(nil, s.values)
		return err != nil || !bytes.Equal(now, s.snapshot)
	}
	return false
}

// changed is dirty for callers that do not hold s.mu.
func (s *Session) changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirty()
}

// snapshot is a session as a save captured it.
type snapshot struct {
	empty   bool      // nothing worth a cookie or a record
	payload []byte    // the encoded values and metadata, unless empty
	created time.Time // the creation time the payload records
	userID  string
	mark    saveMark
}

// prepare captures the session for a save when it changed, or when force
// is set (a re-sign or a new identity); ok is false when there is nothing
// to save. A session never saved before gets now as its creation time.
func (s *Session) prepare(now time.Time, force bool) (snap snapshot, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !force && !s.dirty() {
		return snapshot{}, false, nil
	}
	snap = snapshot{empty: s.isEmpty(), created: s.meta.Created, userID: s.meta.UserID}
	if !snap.empty {
		if snap.created.IsZero() {
			snap.created = now
		}
		md := s.meta
		md.Created = snap.created
		snap.payload, err = encodePayload(make([]byte, 0, 256), s.scheme, s.values, md)
		if err != nil {
			return snap, true, fmt.Errorf("sessions: encoding session: %w", err)
		}
	}
	snap.mark = s.mark()
	return snap, true, nil
}

// markSaved records that snap has been written.
func (s *Session) markSaved(snap snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta.Created = snap.created
	s.saved(snap.mark)
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
	s.snapshot = nil
	s.touch()
}
