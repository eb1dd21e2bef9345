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
// In cookie mode it needs SessionConfig.RevocationStore: it moves the
// user's revocation generation on there, and from then on the middleware
// rejects every cookie of userID logged in before (ErrRevoked; the request
// gets a new, empty session). Login stamps the generation into the cookie,
// so no clocks are compared: a login on a server whose clock runs ahead is
// revoked too. The record is kept for MaxAge plus ClockSkew, after which
// every revoked cookie has expired anyway. Without a RevocationStore it
// returns ErrNotSupported: signed cookies cannot be recalled.
//
// A store failure is returned wrapped in ErrStore.
func (m *Middleware) DestroyUser(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrInvalidUserID
	}
	return m.backend.destroyUser(ctx, userID)
}
