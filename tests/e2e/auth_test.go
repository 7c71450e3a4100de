package e2e

import (
	"net/http"
	"testing"
)

// TestAPIKeyAuth: with API-key authentication on and anonymous access off,
// requests without (or with a wrong) key get 401, the health endpoints stay
// open, and a client with the key works.
func TestAPIKeyAuth(t *testing.T) {
	t.Parallel()
	const key = "key1"
	s := startServer(t, serverOptions{APIKey: key})
	ctx := ctxT(t)

	// Health endpoints need no key.
	for _, p := range []string{"/v1/.well-known/ready", "/v1/.well-known/live"} {
		wantStatus(t, s.doNoAuth(t, http.MethodGet, p, nil), http.StatusOK)
	}

	// Raw requests without / with a wrong key.
	for _, p := range []string{"/v1/schema", "/v1/meta", "/v1/objects"} {
		wantStatus(t, s.doNoAuth(t, http.MethodGet, p, nil), http.StatusUnauthorized)
		r := s.doWith(t, http.MethodGet, p, nil, http.Header{"Authorization": {"Bearer wrong-key"}}, true)
		wantStatus(t, r, http.StatusUnauthorized)
	}
	r := s.doNoAuth(t, http.MethodPost, "/v1/schema", articleClass("Sneaky"))
	wantStatus(t, r, http.StatusUnauthorized)
	r = s.doNoAuth(t, http.MethodPost, "/v1/graphql", map[string]any{"query": "{ Get { Sneaky { title } } }"})
	wantStatus(t, r, http.StatusUnauthorized)

	// The official client without a key.
	anon := s.clientWithKey(t, "")
	_, err := anon.Schema().Getter().Do(ctx)
	wantClientStatus(t, err, http.StatusUnauthorized)
	err = anon.Schema().ClassCreator().WithClass(articleClass("Sneaky")).Do(ctx)
	wantClientStatus(t, err, http.StatusUnauthorized)
	wrong := s.clientWithKey(t, "wrong-key")
	_, err = wrong.Schema().Getter().Do(ctx)
	wantClientStatus(t, err, http.StatusUnauthorized)

	// With the key: everything works.
	c := s.client(t)
	if _, err := c.Misc().MetaGetter().Do(ctx); err != nil {
		t.Fatalf("meta with key: %v", err)
	}
	createClass(t, s, articleClass("Article"))
	objs := genObjects(6, 20, 8)
	batchImport(t, s, "Article", "", objs, 10)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 7), objs)
	if n := aggregateCount(t, s, "Article", ""); n != len(objs) {
		t.Errorf("aggregate with key: %d, want %d", n, len(objs))
	}
	wantStatus(t, s.do(t, http.MethodGet, "/v1/schema/Article", nil), http.StatusOK)

	// The failed anonymous create did not create anything.
	if ok, err := c.Schema().ClassExistenceChecker().WithClassName("Sneaky").Do(ctx); err != nil || ok {
		t.Errorf("class created by an unauthenticated request: exists=%v err=%v", ok, err)
	}
	// Unauthenticated object reads still fail after data exists.
	wantStatus(t, s.doNoAuth(t, http.MethodGet, "/v1/objects/Article/"+objs[0].ID, nil), http.StatusUnauthorized)
}
