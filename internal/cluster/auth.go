package cluster

import (
	"crypto/subtle"
	"net/http"
)

// BasicAuth is the credential nodes present to each other on the internal
// ports (Weaviate's CLUSTER_BASIC_AUTH_USERNAME and _PASSWORD). The zero
// value turns it off.
type BasicAuth struct {
	User, Password string
}

// Enabled tells whether a credential is set.
func (a BasicAuth) Enabled() bool { return a.User != "" || a.Password != "" }

// Set adds the credential to an outgoing request.
func (a BasicAuth) Set(r *http.Request) {
	if a.Enabled() {
		r.SetBasicAuth(a.User, a.Password)
	}
}

// Wrap refuses requests without the credential with 401.
func (a BasicAuth) Wrap(h http.Handler) http.Handler {
	if !a.Enabled() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(a.User)) != 1 ||
			subtle.ConstantTimeCompare([]byte(password), []byte(a.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="strata cluster"`)
			http.Error(w, "cluster credentials required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
