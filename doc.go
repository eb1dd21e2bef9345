// Package sessions is net/http session middleware whose session lives in
// the request context, and whose default cookie is the wire format of
// Python's itsdangerous, so that Go and Python services can share sessions.
//
// # Usage
//
// Create one Middleware with New, wrap your handler, and call GetSession
// wherever you hold the request's context:
//
//	m, err := sessions.New(sessions.SessionConfig{
//		SecretKey: os.Getenv("SESSION_KEY"), // at least 32 bytes
//		Secure:    true,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		s, err := sessions.GetSession(r.Context())
//		if err != nil {
//			http.Error(w, err.Error(), http.StatusInternalServerError)
//			return
//		}
//		n, _ := sessions.GetAs[int](s, "visits")
//		s.Set("visits", n+1)
//		fmt.Fprintf(w, "visit %d\n", n+1)
//	})
//	log.Fatal(http.ListenAndServe(":8080", m.Handler(mux)))
//
// Login, LoginKeep and Logout manage the signed-in user and prevent
// session fixation; RegenerateSession and Destroy are the lower-level
// tools they use. Session.AddFlash and Session.Flashes carry one-time
// messages; WithSession passes the session to a handler as an argument.
//
// # Defaults
//
// Only SessionConfig.SecretKey is required. The cookie is called
// "session", has Path "/", HttpOnly and SameSite=Lax, lives 14 days
// (MaxAge, enforced on the server from the signed timestamp, not only by
// the browser) and accepts timestamps up to one minute in the future
// (ClockSkew). Secure is off so that plain-HTTP development works: turn it
// on in production, or use a "__Host-" cookie name, which New then checks
// (Secure, Path "/", no Domain). Idle and absolute timeouts are off until
// IdleTimeout and AbsoluteTimeout are set. New rejects any configuration
// that net/http would silently drop or rewrite, with an error matching
// ErrInvalidConfig.
//
// # Lazy loading and automatic write-back
//
// Nothing is decoded until the first GetSession of a request; a request
// that never asks for its session costs almost nothing and gets no
// Set-Cookie (and no Vary header unless it carried a session cookie). The session is written into the response
// headers just before they go out: on WriteHeader, the first Write, Flush
// (also through http.ResponseController) and ReadFrom, or when the handler
// returns without writing. Only a session that changed (including an
// in-place change to a map or slice obtained through Get), was regenerated,
// or needs re-signing (a fallback key, an idle-timeout refresh) is written.
// A response that read the session, or whose request carried a session
// cookie, carries "Vary: Cookie"; one that sets it
// also carries `Cache-Control: no-cache="Set-Cookie"`. Commit writes the
// session early, before a streamed body. A change made after the headers
// went out cannot be sent: it is reported to SessionConfig.ErrorHandler as
// ErrHeadersWritten. A cookie that would exceed MaxCookieSize bytes is not
// sent: the error handler receives ErrCookieTooLarge (the default replies
// 500) and the previous cookie stays valid. If the handler panics, nothing
// more is saved (a store record that Login or Logout already deleted stays
// deleted). The response writer the handler sees implements Unwrap and
// FlushError (for http.ResponseController), and only those of
// http.Flusher, http.Hijacker and io.ReaderFrom that the underlying writer
// has.
//
// A cookie that fails verification (tampered, truncated, wrong key,
// malformed, oversized, expired, from the future) never reaches the handler:
// the request gets a fresh, empty session, and the reason is logged at
// debug level to SessionConfig.Logger.
//
// # Wire format
//
// The default cookie (FormatItsdangerous) is exactly what Python's
//
//	itsdangerous.URLSafeTimedSerializer(secret_key,
//	    salt="ctxsession:" + cookie_name,
//	    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})
//
// produces and accepts: the session as a compact JSON object, base64url
// without padding (prefixed with "." and zlib-compressed when that is
// shorter; decompression is capped at 64 KiB), then "." and the big-endian
// Unix timestamp in base64url, then "." and the HMAC-SHA256 signature. The
// user's keys are the JSON object's top-level keys; the package's own
// metadata (user id, creation time, flashes) lives under the reserved key
// ReservedKey ("_ctxsession") and is visible only through accessors. The
// JSON is parsed strictly: duplicate keys, nesting deeper than 32 levels
// and invalid UTF-8 are rejected, and numbers stay exact (json.Number);
// GetAs converts them. Keys rotate through SessionConfig.FallbackKeys:
// SecretKey signs, every key verifies, and a cookie accepted through a
// fallback key is re-signed with SecretKey on the same response. Other
// formats (Flask, Starlette, JWT, encrypted) are chosen with
// SessionConfig.Format; Middleware.Encode and Middleware.Decode mint and
// verify cookies outside a request.
//
// # Server-side stores
//
// With SessionConfig.Store set, the data moves to the server: the cookie
// carries only a signed random session id (256 bits), the Store holds the
// JSON payload under a SHA-256 hash of that id, and Login, Logout and
// RegenerateSession delete the old record and issue a new id, so a stolen
// cookie dies with the session. Store is a small byte-blob interface
// (Find, Create, Update, Delete) that knows nothing about HTTP; a store
// that also implements UserStore lets Middleware.DestroyUser end every
// session of a user. A store failure is never turned into an empty session:
// GetSession returns an error matching ErrStore and the error handler
// writes the response.
package sessions
