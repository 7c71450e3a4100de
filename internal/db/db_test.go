package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"strata/internal/schema"
)

func openTest(t *testing.T, dir string, autoSchema bool) *DB {
	t.Helper()
	d, err := Open(Options{DataPath: dir, AutoSchema: autoSchema})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// props decodes JSON the way the API does (numbers as json.Number).
func props(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func articleClass() *schema.Class {
	return &schema.Class{Class: "article", Properties: []*schema.Property{
		{Name: "title", DataType: []string{"text"}},
		{Name: "WordCount", DataType: []string{"int"}},
	}}
}

func TestCreateClassNormalisesAndPersists(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir, true)
	c, err := d.CreateClass(articleClass())
	if err != nil {
		t.Fatal(err)
	}
	if c.Class != "Article" || c.Properties[1].Name != "wordCount" {
		t.Fatalf("names not normalised: %s %s", c.Class, c.Properties[1].Name)
	}
	if _, err := d.CreateClass(articleClass()); KindOf(err) != KindInvalid || err.Error() != "class name Article already exists" {
		t.Fatalf("duplicate class: got %v", err)
	}
	d.Close()
	d2 := openTest(t, dir, true)
	got, err := d2.GetClass("article")
	if err != nil {
		t.Fatal(err)
	}
	if got.Class != "Article" || got.Distance("") != "cosine" {
		t.Fatalf("reopened class: %+v", got)
	}
}

func TestPutListCursorAndReopen(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir, false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ins []*ObjectInput
	for i := 0; i < 250; i++ {
		ins = append(ins, &ObjectInput{Class: "Article", GenerateID: true, Properties: props(t, `{"title":"t","wordCount":3}`),
			Vector: []float32{float32(i), 1, -0.5}})
	}
	res, err := d.PutObjects(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("object %d: %v", i, r.Err)
		}
	}
	var seen []uuid.UUID
	var after *uuid.UUID
	for {
		page, err := d.ListObjects(ctx, ListParams{Class: "Article", Limit: 40, After: after, WithVectors: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			seen = append(seen, o.ID)
			if string(o.Properties) != `{"title":"t","wordCount":3}` {
				t.Fatalf("properties: %s", o.Properties)
			}
		}
		last := page[len(page)-1].ID
		after = &last
	}
	if len(seen) != 250 {
		t.Fatalf("listed %d objects, want 250", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if bytes.Compare(seen[i-1][:], seen[i][:]) >= 0 {
			t.Fatalf("ids not ascending at %d", i)
		}
	}
	d.Close()
	d2 := openTest(t, dir, false)
	n, err := d2.Count(ctx, "Article", "")
	if err != nil || n != 250 {
		t.Fatalf("count after reopen = %d, %v", n, err)
	}
	hits, err := d2.Search(ctx, SearchParams{Class: "Article", Vector: []float32{7, 1, -0.5}, Limit: 1, WithVectors: true})
	if err != nil || len(hits) != 1 || hits[0].Object.Vector[0] != 7 {
		t.Fatalf("search after reopen: %+v %v", hits, err)
	}
}

func TestValidationErrorsChangeNothing(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.AddObject(ctx, &ObjectInput{Class: "Article", GenerateID: true, Vector: []float32{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   *ObjectInput
		want string
	}{
		{"wrong type", &ObjectInput{GenerateID: true, Class: "Article", Properties: props(t, `{"wordCount":"bad"}`)}, "invalid integer property 'wordCount' on class 'Article'"},
		{"fraction for int", &ObjectInput{GenerateID: true, Class: "Article", Properties: props(t, `{"wordCount":1.5}`)}, "could not be converted to an int"},
		{"unknown property", &ObjectInput{GenerateID: true, Class: "Article", Properties: props(t, `{"nope":1}`)}, "no such prop with name 'nope'"},
		{"unknown class", &ObjectInput{GenerateID: true, Class: "Nope", Properties: props(t, `{}`)}, `class "Nope" not found`},
		{"wrong dimension", &ObjectInput{GenerateID: true, Class: "Article", Vector: []float32{1, 2}}, "vector dimensions do not match"},
		{"tenant on non-MT class", &ObjectInput{GenerateID: true, Class: "Article", Tenant: "t1"}, "multi-tenancy disabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.AddObject(ctx, tc.in)
			if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want invalid containing %q", err, tc.want)
			}
		})
	}
	if n, _ := d.Count(ctx, "Article", ""); n != 1 {
		t.Fatalf("count = %d after rejected writes, want 1", n)
	}
	if c, _ := d.GetClass("Article"); len(c.Properties) != 2 {
		t.Fatalf("schema changed by rejected writes: %d properties", len(c.Properties))
	}
}

func TestAutoSchemaInfersClassAndProperties(t *testing.T) {
	d := openTest(t, t.TempDir(), true)
	ctx := context.Background()
	_, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "song", Properties: props(t, `{"title":"x","plays":3,"hit":true,"released":"2024-01-02T03:04:05Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.GetClass("Song")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"title": "text", "plays": "number", "hit": "boolean", "released": "date"}
	for name, dt := range want {
		p := c.Property(name)
		if p == nil || p.DataType[0] != dt {
			t.Errorf("property %s: got %+v, want %s", name, p, dt)
		}
	}
}

func TestTenantsLifecycle(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir, false)
	ctx := context.Background()
	mt := &schema.Class{Class: "MT", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}
	if _, err := d.CreateClass(mt); err != nil {
		t.Fatal(err)
	}
	if err := d.AddTenants("MT", []Tenant{{Name: "t1"}, {Name: "t2", ActivityStatus: "INACTIVE"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "MT", Tenant: "t1", Properties: props(t, `{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "MT", Properties: props(t, `{"n":1}`)}); err == nil ||
		!strings.Contains(err.Error(), "has multi-tenancy enabled, but request was without tenant") {
		t.Fatalf("missing tenant: %v", err)
	}
	if _, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "MT", Tenant: "t2"}); err == nil || err.Error() != "tenant not active: 't2'" {
		t.Fatalf("inactive tenant: %v", err)
	}
	if _, err := d.UpdateTenants("MT", []Tenant{{Name: "t2", ActivityStatus: "ACTIVE"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Count(ctx, "MT", "t2"); err != nil || n != 0 {
		t.Fatalf("t2 count = %d, %v", n, err)
	}
	if err := d.DeleteTenants("MT", []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, classesDir, "MT", "t1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tenant dir still there: %v", err)
	}
	d.Close()
	d2 := openTest(t, dir, false)
	ts, err := d2.Tenants("MT")
	if err != nil || len(ts) != 1 || ts[0] != (Tenant{Name: "t2", ActivityStatus: TenantHot}) {
		t.Fatalf("tenants after reopen: %+v %v", ts, err)
	}
}

func TestOrphanShardDirsAreRemovedOnOpen(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir, false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	orphan := filepath.Join(dir, classesDir, "Gone", "abc")
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	openTest(t, dir, false)
	if _, err := os.Stat(filepath.Join(dir, classesDir, "Gone")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("orphan class dir kept: %v", err)
	}
}

func TestPutObjectsEachStoresInChunksInOrder(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { putChunkBytes = n }(putChunkBytes)
	putChunkBytes = 1 // one object per chunk
	dup := uuid.MustParse("00000000-0000-0000-0000-000000000007")
	ins := []*ObjectInput{
		{Class: "Article", ID: uuid.Nil, Vector: []float32{1, 0, 0}}, // the nil UUID is an id like any other
		{Class: "Article", ID: dup, Vector: []float32{0, 1, 0}},
		{Class: "Article", ID: dup, Vector: []float32{0, 0, 1}}, // a later chunk's duplicate wins
		{Class: "Article", GenerateID: true, Properties: props(t, `{"wordCount":"bad"}`)},
	}
	var order []int
	err := d.PutObjectsEach(context.Background(), ins, func(i int, r BatchResult) {
		order = append(order, i)
		if (r.Err != nil) != (i == 3) {
			t.Errorf("object %d: err %v", i, r.Err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []int{0, 1, 2, 3}) {
		t.Fatalf("results handed over in order %v", order)
	}
	if ins[3].ID == uuid.Nil {
		t.Fatal("a failed object without an id got none")
	}
	if _, err := d.GetObject(context.Background(), "Article", uuid.Nil, "", false); err != nil {
		t.Fatalf("nil UUID not stored as given: %v", err)
	}
	o, err := d.GetObject(context.Background(), "Article", dup, "", true)
	if err != nil || !slices.Equal(o.Vector, []float32{0, 0, 1}) {
		t.Fatalf("duplicate: %v %v", o, err)
	}
	if n, _ := d.Count(context.Background(), "Article", ""); n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
}

// TestAutoTenantActivation: with autoTenantActivation a read or a write of
// an inactive tenant activates it first, as in Weaviate; without it the
// request fails with "tenant not active".
func TestAutoTenantActivation(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	ctx := context.Background()
	for _, auto := range []bool{false, true} {
		name := "Manual"
		if auto {
			name = "Auto"
		}
		c := &schema.Class{Class: name, MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true, AutoTenantActivation: auto}}
		if _, err := d.CreateClass(c); err != nil {
			t.Fatal(err)
		}
		if err := d.AddTenants(name, []Tenant{{Name: "r", ActivityStatus: "COLD"}, {Name: "w", ActivityStatus: "COLD"}}); err != nil {
			t.Fatal(err)
		}
		_, readErr := d.Count(ctx, name, "r")
		res, err := d.PutObjects(ctx, []*ObjectInput{{GenerateID: true, Class: name, Tenant: "w"}})
		if err != nil {
			t.Fatal(err)
		}
		writeErr := res[0].Err
		st := tenantStatuses(t, d, name)
		if !auto {
			if fmtErr(readErr) != "tenant not active: 'r'" || fmtErr(writeErr) != "tenant not active: 'w'" || st["r"] != TenantCold || st["w"] != TenantCold {
				t.Fatalf("without auto-activation: read %v, write %v, statuses %v", readErr, writeErr, st)
			}
			continue
		}
		if readErr != nil || writeErr != nil || st["r"] != TenantHot || st["w"] != TenantHot {
			t.Fatalf("with auto-activation: read %v, write %v, statuses %v", readErr, writeErr, st)
		}
		if n, err := d.Count(ctx, name, "w"); err != nil || n != 1 {
			t.Fatalf("written to the activated tenant: %d, %v", n, err)
		}
	}
}
