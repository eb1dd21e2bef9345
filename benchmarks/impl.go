package benchmarks

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	sessions "github.com/ctxsession/sessions"
	gorilla "github.com/gorilla/sessions"
)

// Secret is the signing key of every implementation (33 bytes).
const Secret = "bench-secret-key-0123456789abcdef"

// An Op is what a request does with its session.
type Op string

// The operations. The first four are the workloads every implementation
// runs; login and logout are this module's own (cmd/roundtrips counts their
// store round trips); counter is for tests.
const (
	OpNew       Op = "new"       // no cookie; set every key of the session
	OpRead      Op = "read"      // valid cookie; read the CSRF token
	OpWrite     Op = "write"     // valid cookie; increment the counter
	OpUntouched Op = "untouched" // valid cookie; ignore the session
	OpLogin     Op = "login"     // valid cookie; Login, then a new CSRF token
	OpLogout    Op = "logout"    // cookie of a logged-in session; Logout
	OpCounter   Op = "counter"   // valid cookie; report the counter
)

// Ops are the workloads every implementation runs.
var Ops = []Op{OpNew, OpRead, OpWrite, OpUntouched}

// LoginUser is the user id the login operation logs in.
const LoginUser = "user-4217"

// An Impl is one library, or one mode of one, under test. Its handlers end
// with WriteHeader(204), as the floor's handler does, so that every library
// commits through its ResponseWriter path; an error gives a 500.
type Impl struct {
	Name string
	// Handler returns the handler of op on session s, wrapped by the
	// library's middleware (gorilla/sessions has none: its handlers call
	// the store). got, when not nil, receives what read and counter read.
	Handler func(op Op, s *Session, got *string) http.Handler
	// refuses names the sessions the implementation cannot carry, and why.
	refuses map[*Session]string
}

// Refuses returns why im cannot carry s (its cookie would pass the
// browsers' 4096-byte limit), or "" when it can.
func (im Impl) Refuses(s *Session) string { return im.refuses[s] }

// Supports reports whether im implements op (login and logout are this
// module's only).
func (im Impl) Supports(op Op) bool {
	return slices.Contains(Ops, op) || op == OpCounter || strings.HasPrefix(im.Name, "ctxsession")
}

// nothing is the floor's handler, and the untouched workload's.
var nothing = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// Nothing returns the floor's handler: it does nothing but WriteHeader(204).
func Nothing() http.Handler { return nothing }

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func setGot(got *string, v string) {
	if got != nil {
		*got = v
	}
}

// ctxImpl runs this module's middleware with cfg.
func ctxImpl(name string, cfg sessions.SessionConfig) (Impl, error) {
	cfg.SecretKey = Secret
	m, err := sessions.New(cfg)
	if err != nil {
		return Impl{}, fmt.Errorf("%s: New: %w", name, err)
	}
	return Impl{Name: name, Handler: func(op Op, sess *Session, got *string) http.Handler {
		var h http.HandlerFunc
		switch op {
		case OpNew:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					return // the middleware's error handler answers
				}
				for _, kv := range sess.Values {
					s.Set(kv.Key, kv.Value)
				}
				w.WriteHeader(http.StatusNoContent)
			}
		case OpRead:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					return
				}
				v, _ := sessions.GetAs[string](s, KeyCSRF)
				setGot(got, v)
				w.WriteHeader(http.StatusNoContent)
			}
		case OpWrite:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					return
				}
				c, _ := sessions.GetAs[int](s, KeyCounter)
				s.Set(KeyCounter, c+1)
				w.WriteHeader(http.StatusNoContent)
			}
		case OpLogin:
			h = func(w http.ResponseWriter, r *http.Request) {
				if err := sessions.Login(r.Context(), LoginUser); err != nil {
					return
				}
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					return
				}
				s.Set(KeyCSRF, ValCSRF)
				w.WriteHeader(http.StatusNoContent)
			}
		case OpLogout:
			h = func(w http.ResponseWriter, r *http.Request) {
				if err := sessions.Logout(r.Context()); err != nil {
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}
		case OpCounter:
			h = func(w http.ResponseWriter, r *http.Request) {
				s, err := sessions.GetSession(r.Context())
				if err != nil {
					return
				}
				c, _ := sessions.GetAs[int](s, KeyCounter)
				setGot(got, strconv.Itoa(c))
				w.WriteHeader(http.StatusNoContent)
			}
		default:
			h = nothing
		}
		return m.Handler(h)
	}}, nil
}

// gorillaImpl runs a gorilla/sessions store.
func gorillaImpl(name string, store gorilla.Store) Impl {
	const cookie = "session"
	return Impl{Name: name, Handler: func(op Op, sess *Session, got *string) http.Handler {
		switch op {
		case OpNew:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := store.Get(r, cookie) // no cookie: a new session
				for _, kv := range sess.Values {
					s.Values[kv.Key] = kv.Value
				}
				if err := s.Save(r, w); err != nil {
					fail(w, err)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
		case OpRead:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := store.Get(r, cookie)
				if err != nil {
					fail(w, err)
					return
				}
				v, _ := s.Values[KeyCSRF].(string)
				setGot(got, v)
				w.WriteHeader(http.StatusNoContent)
			})
		case OpWrite:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := store.Get(r, cookie)
				if err != nil {
					fail(w, err)
					return
				}
				c, _ := s.Values[KeyCounter].(int)
				s.Values[KeyCounter] = c + 1
				if err := s.Save(r, w); err != nil {
					fail(w, err)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
		case OpCounter:
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := store.Get(r, cookie)
				if err != nil {
					fail(w, err)
					return
				}
				c, _ := s.Values[KeyCounter].(int)
				setGot(got, strconv.Itoa(c))
				w.WriteHeader(http.StatusNoContent)
			})
		}
		// No middleware: an untouched session costs nothing.
		return nothing
	}}
}

// scsImpl runs scs/v2's LoadAndSave with store.
func scsImpl(name string, store scs.Store) Impl {
	sm := scs.New()
	sm.Store = store
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { fail(w, err) }
	return Impl{Name: name, Handler: func(op Op, sess *Session, got *string) http.Handler {
		var h http.HandlerFunc
		switch op {
		case OpNew:
			h = func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				for _, kv := range sess.Values {
					sm.Put(ctx, kv.Key, kv.Value)
				}
				w.WriteHeader(http.StatusNoContent)
			}
		case OpRead:
			h = func(w http.ResponseWriter, r *http.Request) {
				setGot(got, sm.GetString(r.Context(), KeyCSRF))
				w.WriteHeader(http.StatusNoContent)
			}
		case OpWrite:
			h = func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				sm.Put(ctx, KeyCounter, sm.GetInt(ctx, KeyCounter)+1)
				w.WriteHeader(http.StatusNoContent)
			}
		case OpCounter:
			h = func(w http.ResponseWriter, r *http.Request) {
				setGot(got, strconv.Itoa(sm.GetInt(r.Context(), KeyCounter)))
				w.WriteHeader(http.StatusNoContent)
			}
		default:
			h = nothing // scs loads the session anyway
		}
		return sm.LoadAndSave(h)
	}}
}

// An opener opens one implementation.
type opener struct {
	name string
	open func(env *Env) (Impl, error)
}

// tooLarge is why a cookie implementation cannot carry NearLimit.
const tooLarge = "its encoding (base64 twice) makes the cookie over 4096 bytes"

// openers are every implementation, in the order of the tables: this
// module's cookie formats, its stores (see Stores), then gorilla/sessions
// and scs.
func openers() []opener {
	var out []opener
	for _, f := range sessions.Formats() {
		name := "ctxsession-" + f.String()
		if f == sessions.FormatItsdangerous {
			name = "ctxsession-cookie" // the default
		}
		out = append(out, opener{name, func(*Env) (Impl, error) {
			im, err := ctxImpl(name, sessions.SessionConfig{Format: f})
			if f == sessions.FormatEncrypted {
				im.refuses = map[*Session]string{NearLimit: tooLarge}
			}
			return im, err
		}})
	}
	for _, st := range Stores {
		name := "ctxsession-" + st.Name
		out = append(out, opener{name, func(env *Env) (Impl, error) {
			o, err := st.Open(env)
			if err != nil {
				return Impl{}, fmt.Errorf("%s: %w", name, err)
			}
			return StoreImpl(st.Name, o)
		}})
	}
	return append(out,
		opener{"gorilla-cookie", func(*Env) (Impl, error) {
			// HMAC-SHA256, no encryption, like this module's default.
			im := gorillaImpl("gorilla-cookie", gorilla.NewCookieStore([]byte(Secret)))
			im.refuses = map[*Session]string{NearLimit: tooLarge}
			return im, nil
		}},
		opener{"gorilla-filesystem", func(env *Env) (Impl, error) {
			dir, err := env.TempDir()
			if err != nil {
				return Impl{}, err
			}
			fs := gorilla.NewFilesystemStore(dir, []byte(Secret))
			// The file is not a cookie: lift the 4096-byte default,
			// as gorilla/sessions documents for larger sessions.
			fs.MaxLength(0)
			return gorillaImpl("gorilla-filesystem", fs), nil
		}},
		opener{"scs-memstore", func(*Env) (Impl, error) {
			// No cleanup goroutine: scs's StopCleanup races with its start.
			return scsImpl("scs-memstore", scsmem.NewWithCleanupInterval(0)), nil
		}},
		opener{"scs-redisstore", func(env *Env) (Impl, error) {
			st, err := scsRedis(env)
			if err != nil {
				return Impl{}, fmt.Errorf("scs-redisstore: %w", err)
			}
			return scsImpl("scs-redisstore", st), nil
		}},
	)
}

// Names returns the names of every implementation, in table order.
func Names() []string {
	var out []string
	for _, o := range openers() {
		out = append(out, o.name)
	}
	return out
}

// Open opens the named implementations (every one when names is empty), in
// table order. Their resources are released by env.Close.
func Open(env *Env, names ...string) ([]Impl, error) {
	all := openers()
	for _, n := range names {
		if !slices.ContainsFunc(all, func(o opener) bool { return o.name == n }) {
			return nil, fmt.Errorf("unknown implementation %q (want one of %s)", n, strings.Join(Names(), ", "))
		}
	}
	var out []Impl
	for _, o := range all {
		if len(names) > 0 && !slices.Contains(names, o.name) {
			continue
		}
		im, err := o.open(env)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

// StoreImpl returns this module's middleware on an opened store, named
// ctxsession-<name>.
func StoreImpl(name string, st OpenStore) (Impl, error) {
	return ctxImpl("ctxsession-"+name, sessions.SessionConfig{Store: st.Store})
}
