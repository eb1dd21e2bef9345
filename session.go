package sessions

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
)

// A Session is the data of one user's session during one request. Get it
// with GetSession. Its methods are safe for concurrent use by goroutines the
// handler starts; values obtained through Get are not (a map or slice from
// Get is shared with the session, and changing it in place is saved).
//
// Values are the top-level keys of a JSON object. A value read back from a
// cookie or a store is what JSON holds: string, bool, nil, json.Number
// (numbers stay exact), []any or map[string]any. A value set in this
// request keeps its Go type until the request ends; so does the value GetAs
// returns for a map, slice or pointer type, which replaces the decoded one.
//
// The session remembers which keys this request set, deleted or changed in
// place. In store mode, a save applies exactly those changes to the record
// as it is in the store at that moment, so overlapping requests of one
// session that change different keys all keep their changes (for the same
// key, the later save wins). In cookie mode that is impossible: the browser
// keeps whichever Set-Cookie arrives last, with the whole session in it, so
// use a Store where overlapping writes matter.
//
// Keys the format reserves for its metadata (ReservedKey for the default
// format) are not session keys: Set and Delete ignore them and Get never
// returns them.
type Session struct {
	mu     sync.Mutex
	values map[string]any
	meta   meta
	scheme scheme
	track  changes // what this request changed; see changes.go
	// done, once the request is over, reports a change that can no longer
	// be saved; nil while the handler runs.
	done lateReporter
	life life // identity and times; see lifecycle.go
}

// meta is the library's own data in a session, kept under reserved keys.
type meta struct {
	UserID  string
	Created time.Time // creation of the session, reset by Login and RegenerateSession
	Fresh   bool      // set by Login (Flask-Login's _fresh)
	Flashes []Flash
	// Generation is the user's revocation generation when Login ran
	// (cookie mode with a RevocationStore; "" when none was recorded).
	Generation string
	// SID is the session's public id in cookie mode (Session.ID), which a
	// RevocationStore can revoke; "" in store mode and in a cookie minted
	// elsewhere.
	SID string
	// UserAgent is the browser's User-Agent at Login (store mode only).
	UserAgent string
	// Seen is when the session was last written (store mode only).
	Seen time.Time
	// Remember overrides SessionConfig.BrowserSession for this session.
	Remember remember
}

// A Flash is a one-time message, shown on the next page a user sees.
type Flash struct {
	Category string `json:"category"`
	Message  string `json:"message"`
}

// newSession returns the session of a request, holding values (nil: none)
// and md as loaded.
func newSession(sc scheme, values map[string]any, md meta) *Session {
	if values == nil {
		values = map[string]any{}
	}
	s := &Session{scheme: sc, values: values, meta: md}
	s.track.loadedFlashes = len(md.Flashes)
	return s
}

// Get returns the value stored under key and whether it exists. A map,
// slice or pointer value is the session's own: changing it in place changes
// the session.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if ok {
		s.watch(key, v)
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

// Set stores value under key. The value must encode to JSON when the
// session is saved; if it does not, the error handler receives an error
// naming the key, and nothing of the session is saved.
func (s *Session) Set(key string, value any) {
	if s.scheme.reserved(key) {
		return
	}
	s.mu.Lock()
	if s.values == nil {
		s.values = make(map[string]any)
	}
	s.values[key] = value
	s.changedKey(key)
	s.unlock("Set", key)
}

// Delete removes key. Deleting a missing key changes nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	if _, ok := s.values[key]; !ok {
		s.mu.Unlock()
		return
	}
	delete(s.values, key)
	s.changedKey(key)
	s.unlock("Delete", key)
}

// Clear removes every key. The user id (see Login) and flashes are kept;
// use Logout or RegenerateSession to end the session itself.
func (s *Session) Clear() {
	s.mu.Lock()
	if len(s.values) == 0 {
		s.mu.Unlock()
		return
	}
	for k := range s.values {
		s.changedKey(k)
	}
	clear(s.values)
	s.unlock("Clear", "")
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
	s.meta.Flashes = append(s.meta.Flashes, Flash{Category: category, Message: message})
	s.changedMeta()
	s.unlock("AddFlash", "")
}

// Flashes returns the queued flash messages, oldest first, and removes them.
func (s *Session) Flashes() []Flash {
	s.mu.Lock()
	f := s.meta.Flashes
	if len(f) == 0 {
		s.mu.Unlock()
		return f
	}
	s.takeFlashes()
	s.unlock("Flashes", "")
	return f
}

// unlock releases s.mu after a change, and reports the change (the call op,
// with key if it has one) when it came after the request was over.
func (s *Session) unlock(op, key string) {
	done := s.done
	s.mu.Unlock()
	if done != nil {
		if key != "" {
			op += "(" + strconv.Quote(key) + ")"
		} else {
			op += "()"
		}
		done.reportAfterDone(op)
	}
}

// A lateReporter is told about a change made after the request was over.
type lateReporter interface{ reportAfterDone(what string) }

// isEmpty reports whether there is nothing worth a cookie or a record.
// Call with s.mu held.
func (s *Session) isEmpty() bool {
	return len(s.values) == 0 && s.meta.UserID == "" && len(s.meta.Flashes) == 0
}
