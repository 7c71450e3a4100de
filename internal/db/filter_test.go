package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/schema"
)

// idOf is the id of object i (never uuid.Nil, which means "generate one").
func idOf(i int) uuid.UUID {
	id := uuid.UUID{0: 1}
	id[15] = byte(i)
	return id
}

func intWhere(op filter.Operator, prop string, v int64) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop, Value: filter.Value{Type: filter.TypeInt, Ints: []int64{v}}}
}

func textWhere(op filter.Operator, prop, v string) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop, Value: filter.Value{Type: filter.TypeText, Texts: []string{v}}}
}

// filterDB holds Article objects 0..19 with wordCount i and vectors along i.
func filterDB(t *testing.T) *DB {
	t.Helper()
	d := openTest(t, t.TempDir(), false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	var ins []*ObjectInput
	for i := range 20 {
		ins = append(ins, &ObjectInput{Class: "Article", ID: idOf(i), Vector: []float32{1, float32(i) / 20},
			Properties: props(t, fmt.Sprintf(`{"title":"the article %d","wordCount":%d}`, i, i))})
	}
	res, err := d.PutObjects(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return d
}

func objectIDs(objs []*Object) []int {
	out := []int{}
	for _, o := range objs {
		out = append(out, int(o.ID[15]))
	}
	return out
}

func TestListAndCountWhere(t *testing.T) {
	d := filterDB(t)
	ctx := context.Background()
	where := intWhere(filter.GreaterThanEqual, "wordCount", 12)
	objs, err := d.ListObjects(ctx, ListParams{Class: "article", Where: where, Limit: 3, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectIDs(objs); !slices.Equal(got, []int{14, 15, 16}) {
		t.Errorf("limit 3 offset 2: %v", got)
	}
	after := idOf(17)
	objs, err = d.ListObjects(ctx, ListParams{Class: "Article", Where: where, Limit: 10, After: &after})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectIDs(objs); !slices.Equal(got, []int{18, 19}) {
		t.Errorf("after 17: %v", got)
	}
	n, err := d.CountWhere(ctx, "Article", "", where)
	if err != nil || n != 8 {
		t.Errorf("CountWhere: %d %v, want 8", n, err)
	}
	if n, err := d.CountWhere(ctx, "Article", "", nil); err != nil || n != 20 {
		t.Errorf("CountWhere(nil): %d %v, want 20", n, err)
	}
	// Stopwords (the class default, "en") are dropped from word-tokenized values.
	if n, err := d.CountWhere(ctx, "Article", "", textWhere(filter.Equal, "title", "the article 7")); err != nil || n != 1 {
		t.Errorf("CountWhere(title): %d %v, want 1", n, err)
	}
}

func TestWhereErrorsAreInvalid(t *testing.T) {
	d := filterDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		where *filter.Clause
		msg   string
	}{
		{intWhere(filter.Equal, "nope", 1), "invalid 'where' filter: no such prop with name 'nope' found in class 'Article'"},
		{textWhere(filter.Equal, "wordCount", "1"), `invalid 'where' filter: data type filter cannot use "valueText" on type "int"`},
		{textWhere(filter.Equal, "title", "the"), "invalid search term, only stopwords provided"},
	} {
		_, err := d.CountWhere(ctx, "Article", "", tc.where)
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("CountWhere: %v, want an Invalid error containing %q", err, tc.msg)
		}
		_, err = d.Search(ctx, SearchParams{Class: "Article", Vector: []float32{1, 0}, Limit: 3, Where: tc.where})
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Search: %v, want an Invalid error containing %q", err, tc.msg)
		}
		_, err = d.DeleteObjects(ctx, DeleteParams{Class: "Article", Where: tc.where})
		if KindOf(err) != KindInvalid {
			t.Errorf("DeleteObjects: %v, want an Invalid error", err)
		}
	}
	if _, err := d.DeleteObjects(ctx, DeleteParams{Class: "Article"}); KindOf(err) != KindInvalid ||
		err.Error() != "validate: empty match.where clause" {
		t.Errorf("DeleteObjects without where: %v", err)
	}
	if _, err := d.ListObjects(ctx, ListParams{Where: intWhere(filter.Equal, "wordCount", 1), Limit: 1}); KindOf(err) != KindInvalid {
		t.Errorf("ListObjects with where and no class: %v", err)
	}
}

// A vector search with a where filter returns the nearest matching
// objects, Limit of them when that many match.
func TestSearchWhere(t *testing.T) {
	d := filterDB(t)
	hits, err := d.Search(context.Background(), SearchParams{Class: "Article", Vector: []float32{1, 0}, Limit: 4, Offset: 1,
		Where: intWhere(filter.GreaterThan, "wordCount", 9)})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, h := range hits {
		got = append(got, int(h.Object.ID[15]))
		if h.Distance == nil {
			t.Error("vector hit without distance")
		}
	}
	if !slices.Equal(got, []int{11, 12, 13, 14}) {
		t.Errorf("hits %v, want [11 12 13 14]", got)
	}
	hits, err = d.Search(context.Background(), SearchParams{Class: "Article", Vector: []float32{1, 0}, Limit: 4,
		Where: intWhere(filter.GreaterThan, "wordCount", 100)})
	if err != nil || len(hits) != 0 {
		t.Errorf("no match: %v %v", hits, err)
	}
}

func TestDeleteObjects(t *testing.T) {
	d := filterDB(t)
	ctx := context.Background()
	where := intWhere(filter.LessThan, "wordCount", 5)
	res, err := d.DeleteObjects(ctx, DeleteParams{Class: "article", Where: where, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matches != 5 || res.Successful != 0 || len(res.Objects) != 5 {
		t.Errorf("dry run: %+v", res)
	}
	if n, _ := d.CountWhere(ctx, "Article", "", nil); n != 20 {
		t.Fatalf("dry run deleted objects: %d left", n)
	}
	res, err = d.DeleteObjects(ctx, DeleteParams{Class: "Article", Where: where, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matches != 3 || res.Successful != 3 || res.Failed != 0 {
		t.Errorf("limited delete: %+v", res)
	}
	for i, o := range res.Objects {
		if o.ID != idOf(i) || o.Err != nil {
			t.Errorf("deleted object %d: %+v, want %v", i, o, idOf(i))
		}
	}
	objs, err := d.ListObjects(ctx, ListParams{Class: "Article", Where: where, Limit: 10})
	if err != nil || !slices.Equal(objectIDs(objs), []int{3, 4}) {
		t.Errorf("left after delete: %v %v", objectIDs(objs), err)
	}
	if n, _ := d.CountWhere(ctx, "Article", "", nil); n != 17 {
		t.Errorf("count after delete: %d, want 17", n)
	}
}

// Properties added later are indexed for new objects, and stopword changes
// apply to open shards.
func TestWhereFollowsSchemaChanges(t *testing.T) {
	d := filterDB(t)
	ctx := context.Background()
	if _, err := d.AddProperty("Article", &schema.Property{Name: "rank", DataType: []string{"int"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PutObjects(ctx, []*ObjectInput{{Class: "Article", ID: idOf(30), Properties: props(t, `{"rank":5}`)}}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.CountWhere(ctx, "Article", "", intWhere(filter.Equal, "rank", 5)); err != nil || n != 1 {
		t.Errorf("new property: %d %v", n, err)
	}
	nullRank := &filter.Clause{Operator: filter.IsNull, Property: "rank", Value: filter.Value{Type: filter.TypeBoolean, Booleans: []bool{true}}}
	if n, err := d.CountWhere(ctx, "Article", "", nullRank); err != nil || n != 20 {
		t.Errorf("old objects lack the new property: %d %v, want 20", n, err)
	}

	c, err := d.GetClass("Article")
	if err != nil {
		t.Fatal(err)
	}
	c.InvertedIndexConfig["stopwords"] = map[string]any{"preset": "none", "additions": []any{"article"}}
	if _, err := d.UpdateClass("Article", c); err != nil {
		t.Fatal(err)
	}
	if n, err := d.CountWhere(ctx, "Article", "", textWhere(filter.Equal, "title", "the article 7")); err != nil || n != 1 {
		t.Errorf("after stopword change: %d %v, want 1 (\"the\" kept, \"article\" dropped)", n, err)
	}
	if _, err := d.CountWhere(ctx, "Article", "", textWhere(filter.Equal, "title", "article")); KindOf(err) != KindInvalid {
		t.Errorf("only the added stopword: %v, want Invalid", err)
	}
}

func TestInvertedConfig(t *testing.T) {
	off := false
	class := &schema.Class{Class: "C", Properties: []*schema.Property{
		{Name: "t", DataType: []string{"text"}, Tokenization: "field"},
		{Name: "n", DataType: []string{"number[]"}},
		{Name: "hidden", DataType: []string{"int"}, IndexFilterable: &off},
		{Name: "geo", DataType: []string{"geoCoordinates"}},
	}, InvertedIndexConfig: map[string]any{"stopwords": map[string]any{
		"preset": "en", "additions": []any{"zzz"}, "removals": []any{"the", "a"}}}}
	cfg := invertedConfig(class)
	if len(cfg.Properties) != 2 || cfg.Properties[0].Name != "t" || cfg.Properties[0].Tokenization != "field" ||
		cfg.Properties[1].Name != "n" || !cfg.Properties[1].Array || cfg.Properties[1].Type != "number" {
		t.Errorf("properties %+v", cfg.Properties)
	}
	if !slices.Contains(cfg.Stopwords, "zzz") || !slices.Contains(cfg.Stopwords, "is") ||
		slices.Contains(cfg.Stopwords, "the") || slices.Contains(cfg.Stopwords, "a") {
		t.Errorf("stopwords %v", cfg.Stopwords)
	}
}
