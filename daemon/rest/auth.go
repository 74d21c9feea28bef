package rest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// bearer checks "Authorization: Bearer <secret>". The zero value (no
// secret) allows every request.
type bearer struct {
	sum [sha256.Size]byte // of the secret, when on
	on  bool
}

func newBearer(secret string) bearer {
	if secret == "" {
		return bearer{}
	}
	return bearer{sum: sha256.Sum256([]byte(secret)), on: true}
}

// allows compares hashes so that the comparison takes the same time
// whatever the length of the token offered.
func (b bearer) allows(r *http.Request) bool {
	if !b.on {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], b.sum[:]) == 1
}

// unauthorized answers 401 with an ErrorResponse.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="aloha"`)
	writeError(w, http.StatusUnauthorized, "Unauthorized: this server requires an \"Authorization: Bearer <secret>\" header.")
}

// RequireBearer protects h as the REST server protects itself, for the
// other HTTP servers of the daemons (a worker's /metrics): with a secret,
// a request without "Authorization: Bearer <secret>" gets a 401
// ErrorResponse and h never sees it; with an empty secret h serves every
// request.
func RequireBearer(secret string, h http.Handler) http.Handler {
	auth := newBearer(secret)
	if !auth.on {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.allows(r) {
			unauthorized(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}
