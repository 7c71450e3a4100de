package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

// product is one object of the filter tests' data set, with the values
// the filters are checked against (nil = property absent).
type product struct {
	ID       string
	Name     string
	SKU      string
	Tags     []string
	Price    float64
	Stock    *int64
	OnSale   *bool
	Released time.Time
	Vendor   string
	Vector   []float32
}

var (
	productAdjectives = []string{"red", "green", "blue", "Big", "small"}
	productNouns      = []string{"chair", "table", "lamp", "sofa", "desk", "shelf", "chairman"}
	productVendors    = []string{
		"00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b", "00000000-0000-0000-0000-00000000000c",
	}
	productEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// genProducts generates n products with varied values, nulls included.
func genProducts(n int) []product {
	ids := genObjects(99, n, 8)
	out := make([]product, n)
	for i := range out {
		p := product{
			ID:       ids[i].ID,
			Name:     productAdjectives[i%5] + " " + productNouns[i%7],
			SKU:      fmt.Sprintf("SKU-%03d", i),
			Price:    float64(i)*1.25 - 20,
			Released: productEpoch.Add(time.Duration(i) * 25 * time.Hour).In(time.FixedZone("", (i%3-1)*3600)),
			Vendor:   productVendors[i%3],
			Vector:   ids[i].Vector,
		}
		if i%2 == 0 {
			p.Tags = append(p.Tags, "even")
		}
		if i%3 == 0 {
			p.Tags = append(p.Tags, "fizz")
		}
		if i%5 == 0 {
			p.Tags = append(p.Tags, "buzz")
		}
		if i%11 != 0 {
			s := int64(i%10) - 3
			p.Stock = &s
		}
		if i%9 != 0 {
			b := i%4 == 0
			p.OnSale = &b
		}
		out[i] = p
	}
	return out
}

func productClass(name string) *models.Class {
	return &models.Class{
		Class:      name,
		Vectorizer: "none",
		Properties: []*models.Property{
			{Name: "name", DataType: []string{"text"}},
			{Name: "sku", DataType: []string{"text"}, Tokenization: "field"},
			{Name: "tags", DataType: []string{"text[]"}},
			{Name: "price", DataType: []string{"number"}},
			{Name: "stock", DataType: []string{"int"}},
			{Name: "onSale", DataType: []string{"boolean"}},
			{Name: "released", DataType: []string{"date"}},
			{Name: "vendor", DataType: []string{"uuid"}},
		},
	}
}

func (p product) model(class, tenant string) *models.Object {
	props := map[string]any{
		"name": p.Name, "sku": p.SKU, "price": p.Price,
		"released": p.Released.Format(time.RFC3339Nano), "vendor": p.Vendor,
	}
	if p.Tags != nil {
		props["tags"] = p.Tags
	}
	if p.Stock != nil {
		props["stock"] = *p.Stock
	}
	if p.OnSale != nil {
		props["onSale"] = *p.OnSale
	}
	return &models.Object{Class: class, Tenant: tenant, ID: strfmt.UUID(p.ID), Properties: props,
		Vector: models.C11yVector(slices.Clone(p.Vector))}
}

func importProducts(t testing.TB, c *weaviate.Client, class, tenant string, ps []product) {
	t.Helper()
	objs := make([]*models.Object, len(ps))
	for i, p := range ps {
		objs[i] = p.model(class, tenant)
	}
	resp, err := c.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctxT(t))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for i, r := range resp {
		if r.Result == nil || r.Result.Status == nil || *r.Result.Status != "SUCCESS" {
			t.Fatalf("import object %d: %+v", i, r.Result)
		}
	}
}

// filterCase is a where filter and the predicate it must agree with.
type filterCase struct {
	name  string
	where *filters.WhereBuilder
	match func(product) bool
}

func where(op filters.WhereOperator, prop string) *filters.WhereBuilder {
	return filters.Where().WithOperator(op).WithPath([]string{prop})
}

func hasWord(s, w string) bool {
	return slices.Contains(strings.Fields(strings.ToLower(s)), w)
}

func productFilterCases() []filterCase {
	day10 := productEpoch.Add(10 * 25 * time.Hour)
	return []filterCase{
		{"word Equal", where(filters.Equal, "name").WithValueText("chair"),
			func(p product) bool { return hasWord(p.Name, "chair") }},
		{"word Equal is case-insensitive and needs every word", where(filters.Equal, "name").WithValueText("BIG Chair"),
			func(p product) bool { return hasWord(p.Name, "big") && hasWord(p.Name, "chair") }},
		{"word Like", where(filters.Like, "name").WithValueText("chair*"),
			func(p product) bool { return hasWord(p.Name, "chair") || hasWord(p.Name, "chairman") }},
		{"field Equal", where(filters.Equal, "sku").WithValueText("SKU-007"),
			func(p product) bool { return p.SKU == "SKU-007" }},
		{"field Like with ?", where(filters.Like, "sku").WithValueText("SKU-01?"),
			func(p product) bool { return strings.HasPrefix(p.SKU, "SKU-01") }},
		{"field range", where(filters.GreaterThanEqual, "sku").WithValueText("SKU-050"),
			func(p product) bool { return p.SKU >= "SKU-050" }},
		{"ContainsAny", where(filters.ContainsAny, "tags").WithValueText("fizz", "buzz"),
			func(p product) bool { return slices.Contains(p.Tags, "fizz") || slices.Contains(p.Tags, "buzz") }},
		{"ContainsAll", where(filters.ContainsAll, "tags").WithValueText("even", "fizz"),
			func(p product) bool { return slices.Contains(p.Tags, "even") && slices.Contains(p.Tags, "fizz") }},
		{"ContainsNone", where(filters.ContainsNone, "tags").WithValueText("even"),
			func(p product) bool { return !slices.Contains(p.Tags, "even") }},
		{"tags IsNull", where(filters.IsNull, "tags").WithValueBoolean(true),
			func(p product) bool { return len(p.Tags) == 0 }},
		{"number GreaterThan", where(filters.GreaterThan, "price").WithValueNumber(10),
			func(p product) bool { return p.Price > 10 }},
		{"number LessThanEqual at the lowest value", where(filters.LessThanEqual, "price").WithValueNumber(-20),
			func(p product) bool { return p.Price <= -20 }},
		{"number LessThan negative", where(filters.LessThan, "price").WithValueNumber(-7.5),
			func(p product) bool { return p.Price < -7.5 }},
		{"int GreaterThanEqual", where(filters.GreaterThanEqual, "stock").WithValueInt(5),
			func(p product) bool { return p.Stock != nil && *p.Stock >= 5 }},
		{"int LessThan negative", where(filters.LessThan, "stock").WithValueInt(-1),
			func(p product) bool { return p.Stock != nil && *p.Stock < -1 }},
		{"int NotEqual includes nulls", where(filters.NotEqual, "stock").WithValueInt(0),
			func(p product) bool { return p.Stock == nil || *p.Stock != 0 }},
		{"int IsNull", where(filters.IsNull, "stock").WithValueBoolean(true),
			func(p product) bool { return p.Stock == nil }},
		{"int ContainsAny", where(filters.ContainsAny, "stock").WithValueInt(-3, 6),
			func(p product) bool { return p.Stock != nil && (*p.Stock == -3 || *p.Stock == 6) }},
		{"boolean Equal", where(filters.Equal, "onSale").WithValueBoolean(true),
			func(p product) bool { return p.OnSale != nil && *p.OnSale }},
		{"boolean NotEqual", where(filters.NotEqual, "onSale").WithValueBoolean(true),
			func(p product) bool { return p.OnSale == nil || !*p.OnSale }},
		{"date GreaterThan (other time zone)", where(filters.GreaterThan, "released").WithValueDate(day10.In(time.FixedZone("", 5*3600))),
			func(p product) bool { return p.Released.After(day10) }},
		{"date LessThanEqual", where(filters.LessThanEqual, "released").WithValueDate(day10),
			func(p product) bool { return !p.Released.After(day10) }},
		{"uuid Equal", where(filters.Equal, "vendor").WithValueText(productVendors[1]),
			func(p product) bool { return p.Vendor == productVendors[1] }},
		{"And", filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
			where(filters.Equal, "tags").WithValueText("even"),
			where(filters.GreaterThan, "price").WithValueNumber(0),
		}), func(p product) bool { return slices.Contains(p.Tags, "even") && p.Price > 0 }},
		{"Or of Not", filters.Where().WithOperator(filters.Or).WithOperands([]*filters.WhereBuilder{
			filters.Where().WithOperator(filters.Not).WithOperands([]*filters.WhereBuilder{
				where(filters.Equal, "onSale").WithValueBoolean(false)}),
			where(filters.LessThan, "stock").WithValueInt(0),
		}), func(p product) bool { return !(p.OnSale != nil && !*p.OnSale) || (p.Stock != nil && *p.Stock < 0) }},
		{"nested And/Or/Not", filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
			filters.Where().WithOperator(filters.Or).WithOperands([]*filters.WhereBuilder{
				where(filters.Equal, "name").WithValueText("lamp"),
				where(filters.Equal, "name").WithValueText("desk"),
			}),
			filters.Where().WithOperator(filters.Not).WithOperands([]*filters.WhereBuilder{
				where(filters.IsNull, "stock").WithValueBoolean(true)}),
		}), func(p product) bool {
			return (hasWord(p.Name, "lamp") || hasWord(p.Name, "desk")) && p.Stock != nil
		}},
	}
}

// expected returns the ids of the products matching, ascending.
func expected(ps []product, match func(product) bool) []string {
	ids := []string{}
	for _, p := range ps {
		if match(p) {
			ids = append(ids, p.ID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return uuidLess(ids[i], ids[j]) })
	return ids
}

// getWhere runs Get.<class>(where, limit) and returns the ids in order.
func getWhere(t testing.TB, c *weaviate.Client, class, tenant string, w *filters.WhereBuilder, limit, offset int) []string {
	t.Helper()
	b := c.GraphQL().Get().WithClassName(class).WithWhere(w).WithLimit(limit).WithOffset(offset).
		WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}})
	if tenant != "" {
		b = b.WithTenant(tenant)
	}
	resp, err := b.Do(ctxT(t))
	if err != nil {
		t.Fatalf("Get %s where %s: %v", class, w, err)
	}
	ids := []string{}
	for _, h := range gqlHits(t, resp.Data, resp.Errors != nil, gqlErrors(resp), "Get", class) {
		ids = append(ids, h.id)
	}
	return ids
}

// countWhere runs Aggregate.<class>(where) { meta { count } }.
func countWhere(t testing.TB, c *weaviate.Client, class, tenant string, w *filters.WhereBuilder) int {
	t.Helper()
	b := c.GraphQL().Aggregate().WithClassName(class).WithWhere(w).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}})
	if tenant != "" {
		b = b.WithTenant(tenant)
	}
	resp, err := b.Do(ctxT(t))
	if err != nil {
		t.Fatalf("Aggregate %s where %s: %v", class, w, err)
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("Aggregate %s where %s: %s", class, w, gqlErrors(resp))
	}
	v, err := gqlPath(dataMap(resp.Data), "Aggregate", class, 0, "meta", "count")
	if err != nil {
		t.Fatalf("Aggregate %s: %v", class, err)
	}
	n, _ := v.(float64)
	return int(n)
}

// TestFilterGraphQLGetAndAggregate: every operator and data type through
// the client's where builder — Get returns exactly the matching objects in
// id order, Aggregate counts them, and paging with limit/offset walks the
// same list. The answers survive a restart.
func TestFilterGraphQLGetAndAggregate(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	createClass(t, s, productClass("Product"))
	ps := genProducts(90)
	importProducts(t, c, "Product", "", ps)

	check := func(when string) {
		for _, tc := range productFilterCases() {
			want := expected(ps, tc.match)
			if len(want) == 0 || len(want) == len(ps) {
				t.Fatalf("%s: case matches %d of %d objects: not a useful test", tc.name, len(want), len(ps))
			}
			if got := getWhere(t, c, "Product", "", tc.where, 100, 0); !slices.Equal(got, want) {
				t.Errorf("%s: %s: Get returned %d ids %v, want %d %v", when, tc.name, len(got), got, len(want), want)
			}
			if n := countWhere(t, c, "Product", "", tc.where); n != len(want) {
				t.Errorf("%s: %s: Aggregate count %d, want %d", when, tc.name, n, len(want))
			}
		}
	}
	check("before restart")

	// Pages of 7 walk the same ordered list.
	w := where(filters.GreaterThan, "price").WithValueNumber(0)
	want := expected(ps, func(p product) bool { return p.Price > 0 })
	var paged []string
	for offset := 0; offset < len(want)+7; offset += 7 {
		paged = append(paged, getWhere(t, c, "Product", "", w, 7, offset)...)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged with limit 7: %v, want %v", paged, want)
	}

	// Filtering on _id and the timestamps.
	if got := getWhere(t, c, "Product", "", where(filters.Equal, "_id").WithValueText(ps[5].ID), 10, 0); !slices.Equal(got, []string{ps[5].ID}) {
		t.Errorf("_id Equal: %v", got)
	}
	if n := countWhere(t, c, "Product", "", where(filters.NotEqual, "_id").WithValueText(ps[5].ID)); n != len(ps)-1 {
		t.Errorf("_id NotEqual: count %d", n)
	}
	future := fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
	if n := countWhere(t, c, "Product", "", where(filters.LessThan, "_creationTimeUnix").WithValueText(future)); n != len(ps) {
		t.Errorf("_creationTimeUnix LessThan now+1h: count %d, want %d", n, len(ps))
	}
	if n := countWhere(t, c, "Product", "", where(filters.GreaterThan, "_lastUpdateTimeUnix").WithValueDate(time.Now().Add(time.Hour))); n != 0 {
		t.Errorf("_lastUpdateTimeUnix GreaterThan now+1h: count %d, want 0", n)
	}

	s.restart()
	check("after restart")
}

// TestFilterNearVectorWithWhere: a vector search with a where filter
// returns the limit's worth of nearest matching objects — the same as an
// exact search over the matching objects only — even when the filter
// keeps few of them.
func TestFilterNearVectorWithWhere(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	createClass(t, s, productClass("Product"))
	ps := genProducts(200)
	importProducts(t, c, "Product", "", ps)

	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range productFilterCases()[:12] {
		q := ps[rng.IntN(len(ps))].Vector
		var matching []testObject
		for _, p := range ps {
			if tc.match(p) {
				matching = append(matching, testObject{ID: p.ID, Vector: p.Vector})
			}
		}
		const k = 5
		resp, err := c.GraphQL().Get().WithClassName("Product").WithWhere(tc.where).WithLimit(k).
			WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(q)).
			WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}, {Name: "distance"}}}).
			Do(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		hits := gqlHits(t, resp.Data, resp.Errors != nil, gqlErrors(resp), "Get", "Product")
		if want := min(k, len(matching)); len(hits) != want {
			t.Fatalf("%s: %d hits, want %d (%d objects match)", tc.name, len(hits), want, len(matching))
		}
		exact := bruteForce(q, matching, min(k, len(matching)))
		for i, h := range hits {
			if !exact[h.id] {
				t.Errorf("%s: hit %d (%s) is not among the %d nearest matching objects", tc.name, i, h.id, k)
			}
			if i > 0 && h.distance < hits[i-1].distance {
				t.Errorf("%s: distances not ascending at %d", tc.name, i)
			}
		}
	}
}

// TestFilterGraphQLErrors: invalid filters are GraphQL errors naming the
// problem; after + where is refused as in Weaviate.
func TestFilterGraphQLErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	createClass(t, s, productClass("Product"))
	importProducts(t, c, "Product", "", genProducts(5))

	cases := []struct {
		w    *filters.WhereBuilder
		want string
	}{
		{where(filters.Equal, "nope").WithValueText("x"),
			"invalid 'where' filter: no such prop with name 'nope' found in class 'Product' in the schema"},
		{where(filters.Equal, "stock").WithValueText("3"),
			`invalid 'where' filter: data type filter cannot use "valueText" on type "int", use "valueInt" instead`},
		{where(filters.Like, "stock").WithValueInt(3), "operator Like needs a text property"},
		{where(filters.IsNull, "stock").WithValueInt(1), "operator IsNull requires a booleanValue, got valueInt instead"},
		{where(filters.Equal, "name").WithValueText("the"), "invalid search term, only stopwords provided"},
		{filters.Where().WithOperator(filters.And), "operator 'And', but no operands set"},
	}
	for _, tc := range cases {
		resp, err := c.GraphQL().Get().WithClassName("Product").WithWhere(tc.w).
			WithFields(graphql.Field{Name: "name"}).Do(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", tc.w, err)
		}
		if msg := gqlErrors(resp); !strings.Contains(msg, tc.want) {
			t.Errorf("Get where %s: errors %q, want one containing %q", tc.w, msg, tc.want)
		}
		resp, err = c.GraphQL().Aggregate().WithClassName("Product").WithWhere(tc.w).
			WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", tc.w, err)
		}
		if msg := gqlErrors(resp); !strings.Contains(msg, tc.want) {
			t.Errorf("Aggregate where %s: errors %q, want one containing %q", tc.w, msg, tc.want)
		}
	}
	resp, err := c.GraphQL().Get().WithClassName("Product").WithAfter(genProducts(1)[0].ID).WithLimit(2).
		WithWhere(where(filters.Equal, "name").WithValueText("chair")).WithFields(graphql.Field{Name: "name"}).Do(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if msg, want := gqlErrors(resp), "cursor api: invalid 'after' parameter: where cannot be set with after and limit parameters"; msg != want {
		t.Errorf("after + where: errors %q, want %q", msg, want)
	}
}

// batchDeleteResponse is DELETE /v1/batch/objects' body, decoded raw.
type batchDeleteResponse struct {
	DeletionTimeUnixMilli *int64 `json:"deletionTimeUnixMilli"`
	DryRun                *bool  `json:"dryRun"`
	Match                 struct {
		Class string         `json:"class"`
		Where map[string]any `json:"where"`
	} `json:"match"`
	Output  string `json:"output"`
	Results struct {
		Failed, Limit, Matches, Successful int
		Objects                            []struct {
			ID     string         `json:"id"`
			Status string         `json:"status"`
			Errors map[string]any `json:"errors"`
		} `json:"objects"`
	} `json:"results"`
}

// TestFilterBatchDelete: DELETE /v1/batch/objects through the client's
// batch deleter (dry run, verbose and minimal output) and raw requests
// (Weaviate's response shape, its deletionTimeUnixMilli quirk, errors).
func TestFilterBatchDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	createClass(t, s, productClass("Product"))
	ps := genProducts(60)
	importProducts(t, c, "Product", "", ps)

	fizz := where(filters.ContainsAny, "tags").WithValueText("fizz")
	want := expected(ps, func(p product) bool { return slices.Contains(p.Tags, "fizz") })

	resp, err := c.Batch().ObjectsBatchDeleter().WithClassName("Product").WithWhere(fizz).
		WithDryRun(true).WithOutput("verbose").Do(ctx)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	r := resp.Results
	if !*resp.DryRun || r.Matches != int64(len(want)) || r.Successful != 0 || r.Failed != 0 || r.Limit != 10000 ||
		len(r.Objects) != len(want) {
		t.Fatalf("dry run: results %+v, want %d DRYRUN objects", r, len(want))
	}
	for i, o := range r.Objects {
		if string(o.ID) != want[i] || o.Status == nil || *o.Status != "DRYRUN" {
			t.Errorf("dry run object %d: %s %v, want %s DRYRUN", i, o.ID, o.Status, want[i])
		}
	}
	if n := countWhere(t, c, "Product", "", fizz); n != len(want) {
		t.Fatalf("dry run deleted objects: %d left of %d", n, len(want))
	}

	resp, err = c.Batch().ObjectsBatchDeleter().WithClassName("Product").WithWhere(fizz).Do(ctx)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if r := resp.Results; r.Matches != int64(len(want)) || r.Successful != int64(len(want)) || r.Failed != 0 || r.Objects != nil {
		t.Fatalf("delete (minimal): results %+v", r)
	}
	if *resp.Output != "minimal" || *resp.DryRun {
		t.Errorf("delete: output %q dryRun %v", *resp.Output, *resp.DryRun)
	}
	if n := countWhere(t, c, "Product", "", fizz); n != 0 {
		t.Errorf("%d fizz objects left after the delete", n)
	}
	left := expected(ps, func(p product) bool { return !slices.Contains(p.Tags, "fizz") })
	if got := getWhere(t, c, "Product", "", where(filters.GreaterThan, "price").WithValueNumber(-1000), 100, 0); !slices.Equal(got, left) {
		t.Errorf("after delete: %d objects, want %d", len(got), len(left))
	}
	if n := aggregateCount(t, s, "Product", ""); n != len(left) {
		t.Errorf("after delete: count %d, want %d", n, len(left))
	}
	if _, err := c.Data().ObjectsGetter().WithClassName("Product").WithID(want[0]).Do(ctx); err == nil {
		t.Errorf("deleted object %s still readable", want[0])
	}

	// Verbose output of a real delete lists every object with SUCCESS.
	sale := where(filters.Equal, "onSale").WithValueBoolean(true)
	wantSale := expected(ps, func(p product) bool {
		return p.OnSale != nil && *p.OnSale && !slices.Contains(p.Tags, "fizz")
	})
	resp, err = c.Batch().ObjectsBatchDeleter().WithClassName("product").WithWhere(sale).WithOutput("verbose").Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results.Objects) != len(wantSale) {
		t.Fatalf("verbose delete: %d objects, want %d", len(resp.Results.Objects), len(wantSale))
	}
	for i, o := range resp.Results.Objects {
		if string(o.ID) != wantSale[i] || *o.Status != "SUCCESS" {
			t.Errorf("verbose object %d: %s %s, want %s SUCCESS", i, o.ID, *o.Status, wantSale[i])
		}
	}

	// The raw shape, as Weaviate answers.
	body := map[string]any{"match": map[string]any{"class": "Product",
		"where": map[string]any{"operator": "Equal", "path": []string{"sku"}, "valueText": "SKU-001"}}}
	raw := s.do(t, http.MethodDelete, "/v1/batch/objects", body)
	wantStatus(t, raw, http.StatusOK)
	var out batchDeleteResponse
	raw.JSON(t, &out)
	if out.DeletionTimeUnixMilli == nil || *out.DeletionTimeUnixMilli != -62135596800000 {
		t.Errorf("deletionTimeUnixMilli %v, want -62135596800000 (Go's zero time) when not given", out.DeletionTimeUnixMilli)
	}
	if out.Match.Class != "Product" || out.Output != "minimal" || out.DryRun == nil || *out.DryRun ||
		out.Results.Matches != 1 || out.Results.Successful != 1 || out.Results.Objects != nil {
		t.Errorf("response %s", raw.Body)
	}
	if w, ok := out.Match.Where["operands"]; !ok || w != nil {
		t.Errorf("match.where echo %v: want \"operands\":null as Weaviate echoes it", out.Match.Where)
	}
	body["deletionTimeUnixMilli"] = 1700000000000
	body["dryRun"] = true
	raw = s.do(t, http.MethodDelete, "/v1/batch/objects", body)
	raw.JSON(t, &out)
	if *out.DeletionTimeUnixMilli != 1700000000000 || out.Results.Matches != 0 {
		t.Errorf("given deletionTimeUnixMilli: %s", raw.Body)
	}

	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"match": map[string]any{"class": "Product"}}, "validate: empty match.where clause"},
		{map[string]any{"match": map[string]any{"where": body["match"].(map[string]any)["where"]}}, "validate: empty match.class clause"},
		{map[string]any{}, "validate: empty match clause"},
		{map[string]any{"match": map[string]any{"class": "Nope", "where": body["match"].(map[string]any)["where"]}},
			"validate: failed to get class: Nope"},
		{map[string]any{"match": map[string]any{"class": "Product",
			"where": map[string]any{"operator": "Equal", "path": []string{"stock"}, "valueText": "x"}}},
			`validate: invalid where filter: data type filter cannot use "valueText" on type "int", use "valueInt" instead`},
		{map[string]any{"match": map[string]any{"class": "Product",
			"where": map[string]any{"operator": "Equal", "path": []string{"stock"}}}},
			"validate: failed to parse where filter: invalid where filter: got operator 'Equal', but no value<Type> field set"},
		{map[string]any{"output": "loud", "match": body["match"]}, `invalid output: "loud", possible values are: "minimal", "verbose"`},
	} {
		wantErrorMessage(t, s.do(t, http.MethodDelete, "/v1/batch/objects", tc.body), http.StatusUnprocessableEntity, tc.want)
	}
	_, err = c.Batch().ObjectsBatchDeleter().WithClassName("Product").
		WithWhere(where(filters.Equal, "nope").WithValueInt(1)).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "no such prop with name 'nope'")
}

// TestFilterBatchDeleteLimitAndTenants: one call deletes at most
// QUERY_MAXIMUM_RESULTS objects (the first in id order); filters and
// deletes stay within their tenant; properties added later filter too.
func TestFilterBatchDeleteLimitAndTenants(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"QUERY_MAXIMUM_RESULTS": "7"}})
	c := s.client(t)
	ctx := ctxT(t)
	class := productClass("Shop")
	class.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, class)
	if err := c.Schema().TenantsCreator().WithClassName("Shop").
		WithTenants(models.Tenant{Name: "t1"}, models.Tenant{Name: "t2"}).Do(ctx); err != nil {
		t.Fatal(err)
	}
	ps := genProducts(40)
	importProducts(t, c, "Shop", "t1", ps[:20])
	importProducts(t, c, "Shop", "t2", ps[20:])

	even := where(filters.Equal, "tags").WithValueText("even")
	want1 := expected(ps[:20], func(p product) bool { return slices.Contains(p.Tags, "even") })
	want2 := expected(ps[20:], func(p product) bool { return slices.Contains(p.Tags, "even") })
	if got := getWhere(t, c, "Shop", "t1", even, 7, 0); !slices.Equal(got, want1[:7]) {
		t.Errorf("t1 first page: %v, want %v", got, want1[:7])
	}
	if n := countWhere(t, c, "Shop", "t2", even); n != len(want2) {
		t.Errorf("t2 count %d, want %d", n, len(want2))
	}

	resp, err := c.Batch().ObjectsBatchDeleter().WithClassName("Shop").WithTenant("t1").WithWhere(even).
		WithOutput("verbose").Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Results; r.Limit != 7 || r.Matches != 7 || r.Successful != 7 || len(r.Objects) != 7 {
		t.Fatalf("limited delete: %+v", r)
	}
	for i, o := range resp.Results.Objects {
		if string(o.ID) != want1[i] {
			t.Errorf("deleted %d: %s, want %s (the first in id order)", i, o.ID, want1[i])
		}
	}
	if n := countWhere(t, c, "Shop", "t1", even); n != len(want1)-7 {
		t.Errorf("t1 after delete: %d, want %d", n, len(want1)-7)
	}
	if n := countWhere(t, c, "Shop", "t2", even); n != len(want2) {
		t.Errorf("t2 touched by t1's delete: %d, want %d", n, len(want2))
	}
	_, err = c.Batch().ObjectsBatchDeleter().WithClassName("Shop").WithWhere(even).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "has multi-tenancy enabled, but request was without tenant")

	// A property added later: new objects are found by it, old ones are null.
	if err := c.Schema().PropertyCreator().WithClassName("Shop").
		WithProperty(&models.Property{Name: "rating", DataType: []string{"int"}}).Do(ctx); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	_, err = c.Data().Creator().WithClassName("Shop").WithTenant("t2").WithID(id).
		WithProperties(map[string]any{"rating": 4, "name": "new lamp"}).WithVector(ps[0].Vector).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := getWhere(t, c, "Shop", "t2", where(filters.GreaterThanEqual, "rating").WithValueInt(4), 7, 0); !slices.Equal(got, []string{id}) {
		t.Errorf("rating >= 4: %v, want [%s]", got, id)
	}
	if n := countWhere(t, c, "Shop", "t2", where(filters.IsNull, "rating").WithValueBoolean(true)); n != 20 {
		t.Errorf("rating IsNull: %d, want the 20 older objects", n)
	}
}
