package sessions

import "context"

// DestroyUser ends every session of userID ("log out everywhere"), for
// example after a password change.
//
// In store mode it needs a UserStore (memstore, filestore and redisstore
// are) and deletes the user's records through its index, without scanning
// the store; a request of that user that is running meanwhile cannot
// recreate its record. It returns ErrNotSupported when the Store is not a
// UserStore.
//
// In cookie mode it needs SessionConfig.RevocationStore: it records there
// that every session of userID created (logged in) up to now is revoked,
// and from then on the middleware rejects such cookies (ErrRevoked; the
// request gets a new, empty session). A login in the same second as
// DestroyUser is revoked too, since cookies record their login time in
// whole seconds. The revocation is kept for MaxAge, after which every such
// cookie has expired anyway. Without a RevocationStore it returns
// ErrNotSupported: signed cookies cannot be recalled.
//
// A store failure is returned wrapped in ErrStore.
func (m *Middleware) DestroyUser(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	return m.backend.destroyUser(ctx, userID)
}
