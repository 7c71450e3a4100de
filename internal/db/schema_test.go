package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/schema"
)

// TestStoredOutOfRangeVectorSettingsAreClamped: a schema.json written
// before the settings were range-checked, with ef and friends at 1e12,
// loads, searches and inserts (each would allocate ~1e12 entries
// unclamped).
func TestStoredOutOfRangeVectorSettingsAreClamped(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d := openTest(t, dir, false)
	if _, err := d.CreateClass(&schema.Class{Class: "V"}); err != nil {
		t.Fatal(err)
	}
	put := func(d *DB, n int) {
		t.Helper()
		var ins []*ObjectInput
		for i := range n {
			ins = append(ins, &ObjectInput{Class: "V", GenerateID: true, Vector: []float32{float32(i), 1, float32(i % 3)}})
		}
		res, err := d.PutObjects(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	put(d, 20)
	d.Close()

	// Rewrite the stored settings as an older version could have stored them.
	path := filepath.Join(dir, catalogName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	cls := f["classes"].([]any)[0].(map[string]any)["class"].(map[string]any)
	cfg := cls["vectorIndexConfig"].(map[string]any)
	for _, k := range []string{"ef", "efConstruction", "maxConnections", "dynamicEfMin", "dynamicEfMax", "dynamicEfFactor"} {
		cfg[k] = 1e12
	}
	if b, err = json.Marshal(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, dir, false)
	put(d, 20)
	hits, err := d.Search(ctx, SearchParams{Class: "V", Vector: []float32{3, 1, 0}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 {
		t.Fatalf("%d hits, want 5", len(hits))
	}
}

// TestUpdateClassOutOfRangeChangesNothing: an update to an out-of-range
// setting is refused naming the field, and the class stays as it was.
func TestUpdateClassOutOfRangeChangesNothing(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir, false)
	c, err := d.CreateClass(&schema.Class{Class: "U"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, catalogName))
	for key, v := range map[string]any{"ef": 1e12, "dynamicEfMax": 1e12, "dynamicEfFactor": -3.0, "flatSearchCutoff": "x"} {
		u := c.Clone()
		u.VectorIndexConfig[key] = v
		_, err := d.UpdateClass("U", u)
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "vectorIndexConfig."+key) {
			t.Errorf("update %s=%v: %v, want an invalid-input error naming the field", key, v, err)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, catalogName))
	if !bytes.Equal(before, after) {
		t.Error("schema.json changed by refused updates")
	}
	if got, _ := d.GetClass("U"); got.VectorIndexConfig["ef"] != -1.0 {
		t.Errorf("ef = %v after refused updates", got.VectorIndexConfig["ef"])
	}
}

// deepValue is {"n":{"n":…{"leaf":"x"}}} with depth objects.
func deepValue(depth int) string {
	return strings.Repeat(`{"n":`, depth-1) + `{"leaf":"x"}` + strings.Repeat(`}`, depth-1)
}

// TestAutoSchemaRefusedWriteChangesNothing: a write auto-schema refuses
// (too deep, too wide, too many properties) creates no class and adds no
// property; in a batch it fails alone.
func TestAutoSchemaRefusedWriteChangesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d, err := Open(Options{DataPath: dir, AutoSchema: true,
		AutoSchemaLimits: schema.AutoSchemaLimits{MaxDepth: 8, MaxWidth: 4, MaxProperties: 6}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.AddObject(ctx, &ObjectInput{Class: "Old", GenerateID: true, Properties: props(t, `{"a":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, catalogName))

	for _, tc := range []struct{ class, props, want string }{
		{"New", `{"deep":` + deepValue(9) + `}`, "property 'deep.n.n.n.n.n.n.n.n': more than the nesting depth limit of 8"},
		{"New", `{"a":1,"b":2,"c":3,"d":4,"e":5}`, "more than the properties per object limit of 4"},
		{"New", `{"o":{"a":1,"b":2,"c":3,"d":4,"e":5}}`, "property 'o': more than the properties per object limit of 4"},
		{"New", `{"o":{"a":1,"b":2,"c":3},"p":{"a":1,"b":2}}`, "more than the properties per class limit of 6"},
		{"Old", `{"deep":` + deepValue(9) + `}`, "nesting depth limit of 8"},
	} {
		_, err := d.AddObject(ctx, &ObjectInput{Class: tc.class, GenerateID: true, Properties: props(t, tc.props)})
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an invalid-input error with %q", tc.class, tc.props, err, tc.want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, catalogName))
	if !bytes.Equal(before, after) {
		t.Errorf("schema.json changed by refused writes:\n%s", after)
	}
	if _, err := d.GetClass("New"); KindOf(err) != KindNotFound {
		t.Errorf("class New: %v, want not found", err)
	}

	// In a batch only the refused object fails, as in Weaviate: the other
	// objects are stored with their schema changes, the refused one adds
	// nothing.
	res, err := d.PutObjects(ctx, []*ObjectInput{
		{Class: "Old", GenerateID: true, Properties: props(t, `{"fine":true}`)},
		{Class: "Old", GenerateID: true, Properties: props(t, `{"deep":`+deepValue(9)+`}`)},
		{Class: "New", GenerateID: true, Properties: props(t, `{"a":1,"b":2,"c":3,"d":4,"e":5}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || KindOf(res[1].Err) != KindInvalid || !strings.Contains(res[1].Err.Error(), "nesting depth limit of 8") ||
		KindOf(res[2].Err) != KindInvalid || !strings.Contains(res[2].Err.Error(), "properties per object limit of 4") {
		t.Fatalf("batch results: %v / %v / %v", res[0].Err, res[1].Err, res[2].Err)
	}
	old, err := d.GetClass("Old")
	if err != nil || old.Property("fine") == nil || old.Property("deep") != nil || len(old.Properties) != 2 {
		t.Fatalf("class Old after the batch: %+v %v; want properties a and fine", old, err)
	}
	if _, err := d.GetObject(ctx, "Old", res[0].Object.ID, "", false); err != nil {
		t.Fatalf("the valid object of the batch: %v", err)
	}
	if _, err := d.GetClass("New"); KindOf(err) != KindNotFound {
		t.Errorf("class New after the batch: %v, want not found", err)
	}
}

// TestAutoSchemaAddsNestedProperties: a new key in an existing object
// property is added to its nested properties (recursively), as Weaviate
// does; a nested "id" is an ordinary property.
func TestAutoSchemaAddsNestedProperties(t *testing.T) {
	d := openTest(t, t.TempDir(), true)
	ctx := context.Background()
	if _, err := d.AddObject(ctx, &ObjectInput{Class: "N", GenerateID: true, Properties: props(t, `{"meta":{"a":"x"},"list":[{"a":1}]}`)}); err != nil {
		t.Fatal(err)
	}
	o, err := d.AddObject(ctx, &ObjectInput{Class: "N", GenerateID: true, Properties: props(t,
		`{"meta":{"a":"y","id":"m1","inner":{"c":true}},"list":[{"a":2},{"b":"z"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.GetClass("N")
	names := func(p *schema.Property) string {
		var out []string
		for _, n := range p.NestedProperties {
			s := n.Name + ":" + n.DataType[0]
			if len(n.NestedProperties) > 0 {
				s += "{" + fmt.Sprint(len(n.NestedProperties)) + "}"
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	if got := names(c.Property("meta")); got != "a:text,id:text,inner:object{1}" {
		t.Errorf("meta nested = %s", got)
	}
	if got := names(c.Property("list")); got != "a:number,b:text" {
		t.Errorf("list nested = %s", got)
	}
	var stored map[string]any
	_ = json.Unmarshal(o.Properties, &stored)
	if stored["meta"].(map[string]any)["id"] != "m1" {
		t.Errorf("stored properties %s", o.Properties)
	}
}

// TestAddPropertyLegacySettings: an added property is validated as given,
// before its defaults hide what Weaviate refuses, and then migrated.
func TestAddPropertyLegacySettings(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	if _, err := d.CreateClass(&schema.Class{Class: "P"}); err != nil {
		t.Fatal(err)
	}
	f, tr := false, true
	for _, p := range []*schema.Property{
		{Name: "a", DataType: []string{"text"}, IndexInverted: &f, IndexFilterable: &tr},
		{Name: "b", DataType: []string{"string"}, Tokenization: "lowercase"},
	} {
		if _, err := d.AddProperty("P", p); KindOf(err) != KindInvalid {
			t.Errorf("add %+v: %v, want invalid input", p, err)
		}
	}
	got, err := d.AddProperty("P", &schema.Property{Name: "c", DataType: []string{"string"}, IndexInverted: &f})
	if err != nil {
		t.Fatal(err)
	}
	if got.DataType[0] != "text" || got.Tokenization != "whitespace" || *got.IndexFilterable || *got.IndexSearchable || got.IndexInverted != nil {
		t.Errorf("added %+v", got)
	}
	if c, _ := d.GetClass("P"); len(c.Properties) != 1 {
		t.Errorf("%d properties, want 1", len(c.Properties))
	}
}

// TestDynamicIndexUsesItsHNSWSettings: a dynamic index is served by HNSW
// with the settings under its "hnsw" key (or, in schemas written before
// dynamic had its own defaults, those at the top level).
func TestDynamicIndexUsesItsHNSWSettings(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	c, err := d.CreateClass(&schema.Class{Class: "Dyn", VectorIndexType: "dynamic",
		VectorIndexConfig: map[string]any{"hnsw": map[string]any{"maxConnections": 16.0, "ef": 50.0}}})
	if err != nil {
		t.Fatal(err)
	}
	if h := d.vectorIndexConfig(c, "").HNSW; h.MaxConnections != 16 || h.EF != 50 || h.EFConstruction != 128 {
		t.Errorf("dynamic: %+v", h)
	}
	// A legacy layout stays in force even once defaults add an "hnsw" key.
	legacy := &schema.Class{Class: "Old", VectorIndexType: "dynamic", VectorIndexConfig: map[string]any{"maxConnections": 24.0}}
	legacy.SetDefaults()
	if h := d.vectorIndexConfig(legacy, "").HNSW; h.MaxConnections != 24 {
		t.Errorf("legacy dynamic: %+v", h)
	}
	// Its graph settings are immutable, as hnsw's are.
	u := c.Clone()
	u.VectorIndexConfig["hnsw"].(map[string]any)["maxConnections"] = 64.0
	if _, err := d.UpdateClass("Dyn", u); KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "maxConnections is immutable") {
		t.Errorf("update dynamic hnsw.maxConnections: %v", err)
	}
}

// TestAutoSchemaKeepsNothingOfAnInvalidObject: an object refused for a
// value of the wrong type adds none of its new properties; a valid object
// of the same batch adds its own.
func TestAutoSchemaKeepsNothingOfAnInvalidObject(t *testing.T) {
	d := openTest(t, t.TempDir(), true)
	ctx := context.Background()
	if _, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "T", Properties: props(t, `{"flag":true,"meta":{"a":"x"}}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "T", Properties: props(t, `{"flag":"yes","extra":"x","meta":{"b":1}}`)})
	if KindOf(err) != KindInvalid {
		t.Fatalf("invalid object: %v", err)
	}
	res, err := d.PutObjects(ctx, []*ObjectInput{
		{Class: "T", GenerateID: true, Properties: props(t, `{"flag":1,"other":"x"}`)},
		{Class: "T", GenerateID: true, Properties: props(t, `{"flag":false,"good":"x"}`)},
	})
	if err != nil || res[0].Err == nil || res[1].Err != nil {
		t.Fatalf("batch: %v %+v", err, res)
	}
	c, _ := d.GetClass("T")
	var names []string
	for _, p := range c.Properties {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "flag,meta,good" {
		t.Errorf("properties %s, want flag,meta,good", got)
	}
	if n := len(c.Property("meta").NestedProperties); n != 1 {
		t.Errorf("meta has %d nested properties, want 1", n)
	}
}
