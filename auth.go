package sessions

import "context"

// Login records userID as the session's user and prevents session fixation:
// the pre-login data is discarded and the session gets a new identity (a new
// cookie, and in store mode a new id with the old record deleted). The login
// time becomes the session's creation time, from which AbsoluteTimeout
// counts. It returns ErrInvalidUserID for an empty userID.
func Login(ctx context.Context, userID string) error {
	return LoginKeep(ctx, userID)
}

// LoginKeep is Login that carries the named keys (a shopping cart, a
// preferred language) from the anonymous session into the new one.
func LoginKeep(ctx context.Context, userID string, keys ...string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoSession
	}
	return st.regenerate("Login", keys, userID, true)
}

// Logout ends the session: the data and user id are discarded, the store
// record deleted, and the cookie deleted with the configured Path and
// Domain. It is Destroy, named for auth flows. A flash added after Logout
// starts a new anonymous session.
//
// With a Store, the deleted record makes every copy of the cookie useless.
// In cookie mode with SessionConfig.RevocationStore, the session's id is
// revoked until every cookie carrying it has expired, so a copy taken
// before Logout, and a cookie re-issued by a request that was running
// meanwhile, are rejected. Without either, a signed cookie cannot be
// revoked: Logout deletes only the browser's copy, and a copy taken before
// keeps working until MaxAge runs out.
func Logout(ctx context.Context) error {
	return Destroy(ctx)
}

// UserID returns the id given to Login and true, or "" and false for an
// anonymous session, outside the middleware, or when the session could not
// be loaded.
func UserID(ctx context.Context) (string, bool) {
	s, err := GetSession(ctx)
	if err != nil {
		return "", false
	}
	id := s.UserID()
	return id, id != ""
}
