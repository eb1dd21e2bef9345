package sessions

import (
	"context"
)

// RegenerateSession discards everything in the session, the user id
// included, and gives it a new identity (the chirp regenerate_session): in
// store mode the old record is deleted at once and a new id is issued; in
// cookie mode the old cookie is replaced. Destroy and Logout do the same
// and return no session; Login does it and then records the user.
// To rotate the identity of a logged-in session (a privilege change), call
// Login again, with LoginKeep to carry keys. The returned *Session is the
// same one GetSession returns, now empty; an empty session is not written,
// so the new cookie appears once something is stored in it.
//
// If the store fails to delete the old record, it returns an error matching
// ErrStore, the session is left as it was, and the response is replaced by
// the error handler's (Login and Logout likewise). After the headers went
// out it still deletes the old record and resets the session, but returns
// ErrHeadersWritten: the browser keeps its old cookie (harmless in store
// mode, where the record is gone; in cookie mode the old cookie stays valid).
func RegenerateSession(ctx context.Context) (*Session, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, ErrNoSession
	}
	if err := st.regenerate("RegenerateSession", nil, "", false); err != nil {
		return nil, err
	}
	return st.session()
}

// Destroy ends the session: its data is discarded, its store record deleted
// and the browser told to delete the cookie (the microdot delete(), scs's
// Destroy). It is RegenerateSession without the returned session; Logout is
// the same call under its auth-flow name. A value stored after Destroy
// starts a new session.
func Destroy(ctx context.Context) error {
	_, err := RegenerateSession(ctx)
	return err
}
