package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/weaviate/weaviate/entities/models"
)

// TestSchemaCRUD drives the collection lifecycle through the official
// client: create, read back with server defaults, name normalisation,
// exists, add property, update, errors, delete.
func TestSchemaCRUD(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)

	createClass(t, s, articleClass("Article"))

	// Read back: every default the server fills in.
	cls, err := c.Schema().ClassGetter().WithClassName("Article").Do(ctx)
	if err != nil {
		t.Fatalf("get class: %v", err)
	}
	checkArticleDefaults(t, cls)

	// The raw body carries multiTenancyConfig even when disabled, and
	// vectorIndexConfig.distance.
	r := s.do(t, http.MethodGet, "/v1/schema/Article", nil)
	wantStatus(t, r, http.StatusOK)
	var raw map[string]any
	r.JSON(t, &raw)
	for _, k := range []string{"class", "properties", "vectorizer", "vectorIndexType", "vectorIndexConfig",
		"invertedIndexConfig", "multiTenancyConfig", "replicationConfig", "shardingConfig"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /v1/schema/Article: key %q missing in %s", k, truncate(r.Body, 400))
		}
	}

	// Name normalisation on lookup: "article" finds "Article".
	lc, err := c.Schema().ClassGetter().WithClassName("article").Do(ctx)
	if err != nil {
		t.Fatalf("get class 'article': %v", err)
	}
	if lc.Class != "Article" {
		t.Errorf("GET /v1/schema/article: class %q, want Article", lc.Class)
	}

	// Exists.
	for name, want := range map[string]bool{"Article": true, "article": true, "Nope": false} {
		ok, err := c.Schema().ClassExistenceChecker().WithClassName(name).Do(ctx)
		if err != nil {
			t.Fatalf("exists %s: %v", name, err)
		}
		if ok != want {
			t.Errorf("exists %s = %v, want %v", name, ok, want)
		}
	}

	// Name normalisation on write: class "article2" → "Article2",
	// property "Headline" → "headline".
	createClass(t, s, &models.Class{
		Class:      "article2",
		Vectorizer: "none",
		Properties: []*models.Property{{Name: "Headline", DataType: []string{"text"}}},
	})
	a2, err := c.Schema().ClassGetter().WithClassName("Article2").Do(ctx)
	if err != nil {
		t.Fatalf("get Article2 (created as article2): %v", err)
	}
	if a2.Class != "Article2" {
		t.Errorf("class created as article2 is named %q, want Article2", a2.Class)
	}
	if len(a2.Properties) != 1 || a2.Properties[0].Name != "headline" {
		t.Errorf("property created as Headline: got %v, want name headline", propNames(a2))
	}

	// Whole schema lists both.
	dump, err := c.Schema().Getter().Do(ctx)
	if err != nil {
		t.Fatalf("get schema: %v", err)
	}
	var names []string
	for _, cl := range dump.Classes {
		names = append(names, cl.Class)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Article", "Article2"}) {
		t.Errorf("GET /v1/schema classes %v, want [Article Article2]", names)
	}

	// Add a property: defaults filled in.
	err = c.Schema().PropertyCreator().WithClassName("Article").
		WithProperty(&models.Property{Name: "body", DataType: []string{"text"}}).Do(ctx)
	if err != nil {
		t.Fatalf("add property: %v", err)
	}
	cls, err = c.Schema().ClassGetter().WithClassName("Article").Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := propNames(cls); !slices.Equal(got, []string{"body", "title", "wordCount"}) {
		t.Fatalf("properties after add: %v, want [body title wordCount]", got)
	}
	body := findProp(cls, "body")
	if body.Tokenization != "word" || !boolIs(body.IndexFilterable, true) || !boolIs(body.IndexSearchable, true) {
		t.Errorf("added property defaults: tokenization %q filterable %v searchable %v; want word/true/true",
			body.Tokenization, deref(body.IndexFilterable), deref(body.IndexSearchable))
	}

	// Update (PUT, complete class) of the description.
	cls.Description = "Updated description"
	if err := c.Schema().ClassUpdater().WithClass(cls).Do(ctx); err != nil {
		t.Fatalf("update class: %v", err)
	}
	upd, err := c.Schema().ClassGetter().WithClassName("Article").Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Description != "Updated description" {
		t.Errorf("description after update %q, want %q", upd.Description, "Updated description")
	}
	if got := propNames(upd); !slices.Equal(got, []string{"body", "title", "wordCount"}) {
		t.Errorf("properties after update: %v", got)
	}

	// Immutable change: distance.
	bad := cloneClass(t, upd)
	vic, _ := bad.VectorIndexConfig.(map[string]any)
	if vic == nil {
		t.Fatalf("vectorIndexConfig %T is not an object", bad.VectorIndexConfig)
	}
	vic["distance"] = "l2-squared"
	err = c.Schema().ClassUpdater().WithClass(bad).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "distance is immutable")

	// Update of an unknown class → 404.
	ghost := cloneClass(t, upd)
	ghost.Class = "Ghost"
	err = c.Schema().ClassUpdater().WithClass(ghost).Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)

	// Duplicates, also under a different spelling.
	err = c.Schema().ClassCreator().WithClass(articleClass("Article")).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "class name Article already exists")
	err = c.Schema().ClassCreator().WithClass(articleClass("article")).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "class name Article already exists")

	// Invalid class name, unknown data type, unavailable module.
	err = c.Schema().ClassCreator().WithClass(articleClass("Bad Name")).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "'Bad Name' is not a valid class name")
	err = c.Schema().ClassCreator().WithClass(&models.Class{Class: "Typo", Vectorizer: "none",
		Properties: []*models.Property{{Name: "a", DataType: []string{"foo"}}}}).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "unknown primitive data type 'foo'")
	err = c.Schema().ClassCreator().WithClass(&models.Class{Class: "Vec", Vectorizer: "text2vec-openai"}).Do(ctx)
	wantClientStatus(t, err, http.StatusUnprocessableEntity, "text2vec-openai")
	for _, name := range []string{"Typo", "Vec", "Ghost"} {
		if ok, _ := c.Schema().ClassExistenceChecker().WithClassName(name).Do(ctx); ok {
			t.Errorf("class %s exists after a failed create", name)
		}
	}

	// Delete.
	if err := c.Schema().ClassDeleter().WithClassName("Article").Do(ctx); err != nil {
		t.Fatalf("delete class: %v", err)
	}
	if ok, err := c.Schema().ClassExistenceChecker().WithClassName("Article").Do(ctx); err != nil || ok {
		t.Fatalf("exists after delete = %v, %v; want false", ok, err)
	}
	_, err = c.Schema().ClassGetter().WithClassName("Article").Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)
	r = s.do(t, http.MethodGet, "/v1/schema/Article", nil)
	wantStatus(t, r, http.StatusNotFound)
	if len(r.Body) != 0 {
		t.Errorf("404 on a class resource: want an empty body, got %q", r.Body)
	}
	// Deleting an unknown class is a 200 too.
	if err := c.Schema().ClassDeleter().WithClassName("Article").Do(ctx); err != nil {
		t.Errorf("delete of a deleted class: %v (want 200)", err)
	}
	// The other class is untouched.
	if ok, _ := c.Schema().ClassExistenceChecker().WithClassName("Article2").Do(ctx); !ok {
		t.Errorf("Article2 vanished when Article was deleted")
	}
}

// checkArticleDefaults asserts the defaults of articleClass as returned.
func checkArticleDefaults(t *testing.T, cls *models.Class) {
	t.Helper()
	if cls.Class != "Article" {
		t.Errorf("class %q, want Article", cls.Class)
	}
	if cls.Description != "A news article" {
		t.Errorf("description %q", cls.Description)
	}
	if cls.Vectorizer != "none" {
		t.Errorf("vectorizer %q, want none", cls.Vectorizer)
	}
	if cls.VectorIndexType != "hnsw" {
		t.Errorf("vectorIndexType %q, want hnsw", cls.VectorIndexType)
	}
	vic, ok := cls.VectorIndexConfig.(map[string]any)
	if !ok {
		t.Errorf("vectorIndexConfig %T %v, want an object", cls.VectorIndexConfig, cls.VectorIndexConfig)
	} else if vic["distance"] != "cosine" {
		t.Errorf("vectorIndexConfig.distance %v, want cosine", vic["distance"])
	}
	iic := cls.InvertedIndexConfig
	switch {
	case iic == nil:
		t.Errorf("invertedIndexConfig missing")
	default:
		if iic.Bm25 == nil || iic.Bm25.B != 0.75 || iic.Bm25.K1 != 1.2 {
			t.Errorf("invertedIndexConfig.bm25 %+v, want b=0.75 k1=1.2", iic.Bm25)
		}
		if iic.CleanupIntervalSeconds != 60 {
			t.Errorf("invertedIndexConfig.cleanupIntervalSeconds %d, want 60", iic.CleanupIntervalSeconds)
		}
		if iic.Stopwords == nil || iic.Stopwords.Preset != "en" {
			t.Errorf("invertedIndexConfig.stopwords %+v, want preset en", iic.Stopwords)
		}
	}
	if mt := cls.MultiTenancyConfig; mt == nil {
		t.Errorf("multiTenancyConfig missing (must always be present)")
	} else if mt.Enabled || mt.AutoTenantCreation || mt.AutoTenantActivation {
		t.Errorf("multiTenancyConfig %+v, want all false", *mt)
	}
	if rc := cls.ReplicationConfig; rc == nil {
		t.Errorf("replicationConfig missing")
	} else if rc.Factor != 1 {
		t.Errorf("replicationConfig.factor %d, want 1", rc.Factor)
	}
	if sc, ok := cls.ShardingConfig.(map[string]any); !ok {
		t.Errorf("shardingConfig %T %v, want an object", cls.ShardingConfig, cls.ShardingConfig)
	} else if sc["desiredCount"] != float64(1) {
		t.Errorf("shardingConfig.desiredCount %v, want 1", sc["desiredCount"])
	}

	if got := propNames(cls); !slices.Equal(got, []string{"title", "wordCount"}) {
		t.Fatalf("properties %v, want [title wordCount]", got)
	}
	title, wc := findProp(cls, "title"), findProp(cls, "wordCount")
	if !slices.Equal(title.DataType, []string{"text"}) || title.Tokenization != "word" ||
		!boolIs(title.IndexFilterable, true) || !boolIs(title.IndexSearchable, true) || !boolIs(title.IndexRangeFilters, false) {
		t.Errorf("title defaults: dataType %v tokenization %q filterable %v searchable %v rangeFilters %v; want [text] word true true false",
			title.DataType, title.Tokenization, deref(title.IndexFilterable), deref(title.IndexSearchable), deref(title.IndexRangeFilters))
	}
	if !slices.Equal(wc.DataType, []string{"int"}) || wc.Tokenization != "" ||
		!boolIs(wc.IndexFilterable, true) || !boolIs(wc.IndexSearchable, false) || !boolIs(wc.IndexRangeFilters, false) {
		t.Errorf("wordCount defaults: dataType %v tokenization %q filterable %v searchable %v rangeFilters %v; want [int] \"\" true false false",
			wc.DataType, wc.Tokenization, deref(wc.IndexFilterable), deref(wc.IndexSearchable), deref(wc.IndexRangeFilters))
	}
}

// propNames returns the sorted property names of a class.
func propNames(c *models.Class) []string {
	var n []string
	for _, p := range c.Properties {
		n = append(n, p.Name)
	}
	slices.Sort(n)
	return n
}

func findProp(c *models.Class, name string) *models.Property {
	for _, p := range c.Properties {
		if p.Name == name {
			return p
		}
	}
	return &models.Property{}
}

func boolIs(p *bool, want bool) bool { return p != nil && *p == want }

func deref(p *bool) any {
	if p == nil {
		return "<unset>"
	}
	return *p
}

// cloneClass deep-copies a class through JSON.
func cloneClass(t testing.TB, c *models.Class) *models.Class {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out models.Class
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
