package e2e

import (
	"net/http"
	"testing"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

const mtWithoutTenant = "has multi-tenancy enabled, but request was without tenant"

// TestMultiTenancy: tenants are created, listed and deleted; data calls
// must name a tenant; tenants are isolated from each other.
func TestMultiTenancy(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)

	cls := articleClass("MT")
	cls.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, cls)
	got, err := c.Schema().ClassGetter().WithClassName("MT").Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.MultiTenancyConfig == nil || !got.MultiTenancyConfig.Enabled {
		t.Fatalf("multiTenancyConfig %+v, want enabled", got.MultiTenancyConfig)
	}

	err = c.Schema().TenantsCreator().WithClassName("MT").
		WithTenants(models.Tenant{Name: "t1"}, models.Tenant{Name: "t2"}).Do(ctx)
	if err != nil {
		t.Fatalf("create tenants: %v", err)
	}
	checkTenants(t, s, "MT", map[string]string{"t1": "HOT", "t2": "HOT"})
	// Creating an existing tenant again is a no-op.
	if err := c.Schema().TenantsCreator().WithClassName("MT").WithTenants(models.Tenant{Name: "t1"}).Do(ctx); err != nil {
		t.Errorf("re-create tenant t1: %v (want a no-op 200)", err)
	}
	for name, want := range map[string]bool{"t1": true, "t3": false} {
		ok, err := c.Schema().TenantsExists().WithClassName("MT").WithTenant(name).Do(ctx)
		if err != nil || ok != want {
			t.Errorf("tenant %s exists = %v, %v; want %v", name, ok, err, want)
		}
	}

	objs := genObjects(4, 5, 8)
	t1Objs, t2Objs := objs[:1], objs[1:]

	// Insert with a tenant (single and batch).
	o := t1Objs[0]
	if _, err := c.Data().Creator().WithClassName("MT").WithID(o.ID).WithTenant("t1").
		WithProperties(map[string]any{"title": o.Title, "wordCount": o.Count}).WithVector(o.Vector).Do(ctx); err != nil {
		t.Fatalf("create in t1: %v", err)
	}
	batchImport(t, s, "MT", "t2", t2Objs, 10)

	// Get with the tenant: tenant is echoed.
	g := getObject(t, s, "MT", o.ID, "t1", true)
	checkObject(t, "MT", g, o)
	if g.Tenant != "t1" {
		t.Errorf("single-object GET: tenant %q, want t1", g.Tenant)
	}

	// Without tenant: 422.
	_, err = c.Data().ObjectsGetter().WithClassName("MT").WithID(o.ID).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, mtWithoutTenant)
	_, err = c.Data().Creator().WithClassName("MT").WithProperties(map[string]any{"title": "x"}).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, mtWithoutTenant)
	_, err = c.Data().ObjectsGetter().WithClassName("MT").Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, mtWithoutTenant)
	r := s.do(t, http.MethodGet, "/v1/objects/MT/"+o.ID, nil)
	wantErrorMessage(t, r, http.StatusUnprocessableEntity, mtWithoutTenant)
	// Batch without tenant: per-object failure.
	resp, err := c.Batch().ObjectsBatcher().WithObjects(genObjects(5, 1, 8)[0].model("MT")).Do(ctx)
	if err != nil {
		t.Fatalf("batch without tenant: %v", err)
	}
	if len(resp) != 1 || resp[0].Result == nil || resp[0].Result.Status == nil || *resp[0].Result.Status != "FAILED" {
		t.Errorf("batch without tenant on an MT class: want one FAILED result, got %+v", resp)
	}

	// Isolation: t1's object is not in t2, and the lists are per tenant.
	_, err = c.Data().ObjectsGetter().WithClassName("MT").WithID(o.ID).WithTenant("t2").Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)
	if ok, err := c.Data().Checker().WithClassName("MT").WithID(o.ID).WithTenant("t2").Do(ctx); err != nil || ok {
		t.Errorf("t1 object exists in t2: %v, %v", ok, err)
	}
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t1", 100), t1Objs)
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t2", 100), t2Objs)
	if n := aggregateCount(t, s, "MT", "t1"); n != 1 {
		t.Errorf("Aggregate MT tenant t1: %d, want 1", n)
	}
	if n := aggregateCount(t, s, "MT", "t2"); n != len(t2Objs) {
		t.Errorf("Aggregate MT tenant t2: %d, want %d", n, len(t2Objs))
	}
	gq, err := c.GraphQL().Get().WithClassName("MT").WithTenant("t2").
		WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}}).
		WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(o.Vector)).WithLimit(10).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range gqlHits(t, gq.Data, len(gq.Errors) > 0, gqlErrors(gq), "Get", "MT") {
		if h.id == o.ID {
			t.Errorf("nearVector in tenant t2 found t1's object %s", o.ID)
		}
	}
	// A GraphQL query without tenant is an error.
	gq, err = c.GraphQL().Get().WithClassName("MT").
		WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}}).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gq.Errors) == 0 {
		t.Errorf("GraphQL Get on an MT class without tenant: no error")
	}

	// Delete an object in t2 leaves t1 untouched.
	if err := c.Data().Deleter().WithClassName("MT").WithID(t2Objs[0].ID).WithTenant("t2").Do(ctx); err != nil {
		t.Fatalf("delete in t2: %v", err)
	}
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t2", 100), t2Objs[1:])
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t1", 100), t1Objs)

	// Delete tenant t2: gone from the list, its data inaccessible, t1 intact.
	if err := c.Schema().TenantsDeleter().WithClassName("MT").WithTenants("t2").Do(ctx); err != nil {
		t.Fatalf("delete tenant t2: %v", err)
	}
	checkTenants(t, s, "MT", map[string]string{"t1": "HOT"})
	_, err = c.Data().ObjectsGetter().WithClassName("MT").WithID(t2Objs[1].ID).WithTenant("t2").Do(ctx)
	if err == nil {
		t.Errorf("object of deleted tenant t2 is still readable")
	} else if w := clientErr(err); w == nil || w.StatusCode < 400 || w.StatusCode >= 500 {
		t.Errorf("get in deleted tenant: %v, want a 4xx", err)
	}
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t1", 100), t1Objs)

	// Re-creating t2 gives an empty tenant.
	if err := c.Schema().TenantsCreator().WithClassName("MT").WithTenants(models.Tenant{Name: "t2"}).Do(ctx); err != nil {
		t.Fatalf("re-create t2: %v", err)
	}
	if got := listAll(t, s, "MT", "t2", 100); len(got) != 0 {
		t.Errorf("re-created tenant t2 has %d objects, want 0", len(got))
	}
}

// checkTenants asserts the tenant list (name → activity status).
func checkTenants(t testing.TB, s *server, class string, want map[string]string) {
	t.Helper()
	tenants, err := s.client(t).Schema().TenantsGetter().WithClassName(class).Do(ctxT(t))
	if err != nil {
		t.Fatalf("get tenants: %v", err)
	}
	got := map[string]string{}
	for _, tn := range tenants {
		got[tn.Name] = tn.ActivityStatus
	}
	if len(got) != len(want) {
		t.Fatalf("tenants %v, want %v", got, want)
	}
	for name, st := range want {
		if g, ok := got[name]; !ok || g != st {
			t.Fatalf("tenant %s: status %q (present %v), want %q; all tenants %v", name, g, ok, st, got)
		}
	}
}
