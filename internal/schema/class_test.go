package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeClass decodes a class the way a handler would.
func decodeClass(t *testing.T, s string) *Class {
	t.Helper()
	var c Class
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("decode class %s: %v", s, err)
	}
	return &c
}

// jsonEqual compares v's JSON encoding with want, ignoring key order and
// number formatting.
func jsonEqual(t *testing.T, what string, v any, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expected JSON for %s: %v", what, err)
	}
	if !reflect.DeepEqual(got, exp) {
		var pg, pe bytes.Buffer
		g, _ := json.Marshal(got)
		e, _ := json.Marshal(exp)
		_ = json.Indent(&pg, g, "", " ")
		_ = json.Indent(&pe, e, "", " ")
		t.Fatalf("%s:\n got %s\nwant %s", what, pg.String(), pe.String())
	}
}

func TestNormalizeNames(t *testing.T) {
	for in, want := range map[string]string{
		"article": "Article", "Article": "Article", "article2": "Article2", "a": "A", "": "",
		"_x": "_x", "éclair": "Éclair", "mT": "MT",
	} {
		if got := NormalizeClassName(in); got != want {
			t.Errorf("NormalizeClassName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Title": "title", "title": "title", "WordCount": "wordCount", "URL": "uRL", "": "", "_id": "_id", "Ärger": "ärger",
	} {
		if got := NormalizePropertyName(in); got != want {
			t.Errorf("NormalizePropertyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassNormalize(t *testing.T) {
	c := decodeClass(t, `{"class":"article","properties":[
		{"name":"Title","dataType":["text"]},
		null,
		{"name":"Meta","dataType":["object"],"nestedProperties":[{"name":"Author","dataType":["text"]}]}]}`)
	c.Normalize()
	if c.Class != "Article" {
		t.Errorf("class = %q", c.Class)
	}
	if c.Properties[0].Name != "title" || c.Properties[2].Name != "meta" || c.Properties[2].NestedProperties[0].Name != "author" {
		t.Errorf("property names not normalised: %q %q %q", c.Properties[0].Name, c.Properties[2].Name, c.Properties[2].NestedProperties[0].Name)
	}
	if c.Property("title") == nil || c.Property("Title") != nil {
		t.Error("Property lookup by normalised name")
	}
}

func TestValidClassName(t *testing.T) {
	for name, ok := range map[string]bool{
		"Article": true, "A": true, "A_1": true, "MT": true, "A" + strings.Repeat("b", 254): true,
		"A" + strings.Repeat("b", 255): false, "": false, "article": false, "Bad name": false,
		"1Abc": false, "_Abc": false, "Ab-c": false, "Äpfel": false,
	} {
		if got := ValidClassName(name); got != ok {
			t.Errorf("ValidClassName(%q) = %v, want %v", name, got, ok)
		}
	}
}

func TestTenantNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"t1": true, "tenant-A_9": true, strings.Repeat("x", 64): true,
		strings.Repeat("x", 65): false, "": false, "a b": false, "../x": false, "a/b": false, "ä": false,
	} {
		if got := ValidTenantName(name); got != ok {
			t.Errorf("ValidTenantName(%q) = %v, want %v", name, got, ok)
		}
		err := ValidateTenantName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateTenantName(%q) = %v", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("ValidateTenantName(%q) error %q does not name the tenant", name, err)
		}
	}
}

func TestValidateOK(t *testing.T) {
	for _, s := range []string{
		`{"class":"Article"}`,
		`{"class":"Article","vectorizer":"none","properties":[{"name":"title","dataType":["text"]},{"name":"wordCount","dataType":["int"]}]}`,
		`{"class":"A","vectorIndexType":"flat","vectorIndexConfig":{"distance":"l2-squared","ef":64,"efConstruction":128,"maxConnections":16}}`,
		`{"class":"A","vectorIndexType":"dynamic","vectorIndexConfig":{"distance":"dot"}}`,
		`{"class":"A","vectorIndexConfig":{"distance":"hamming"}}`,
		`{"class":"A","vectorIndexConfig":{"distance":"manhattan"}}`,
		`{"class":"A","properties":[{"name":"s","dataType":["string"]},{"name":"ss","dataType":["string[]"],"tokenization":"field"}]}`,
		`{"class":"A","properties":[{"name":"t","dataType":["text[]"],"tokenization":"lowercase"}]}`,
		`{"class":"A","properties":[{"name":"o","dataType":["object[]"],"nestedProperties":[
			{"name":"a","dataType":["text"]},{"name":"deep","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["int[]"]}]}]}]}`,
		`{"class":"A","properties":[{"name":"g","dataType":["geoCoordinates"]},{"name":"p","dataType":["phoneNumber"]},{"name":"b","dataType":["blob"]},
			{"name":"d","dataType":["date[]"]},{"name":"u","dataType":["uuid[]"]},{"name":"n","dataType":["number[]"]},{"name":"x","dataType":["boolean[]"]}]}`,
		`{"class":"A","properties":[{"name":"self","dataType":["A"]},{"name":"other","dataType":["Article","A"]}]}`,
		`{"class":"A","vectorConfig":{"title_vec":{"vectorizer":{"none":{}},"vectorIndexType":"flat","vectorIndexConfig":{"distance":"dot"}},"v2":{}}}`,
		`{"class":"A","vectorConfig":{"v":{"vectorizer":"none"}}}`,
		`{"class":"A","properties":[{"name":"_under","dataType":["text"]}]}`,
	} {
		c := decodeClass(t, s)
		if err := c.Validate(func(n string) bool { return n == "A" || n == "Article" }); err != nil {
			t.Errorf("Validate(%s): %v", s, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	known := func(n string) bool { return n == "Article" }
	for _, tc := range []struct {
		class string
		want  string // exact message, or a prefix when it ends in "…"
	}{
		{`{"class":"bad name"}`, `'bad name' is not a valid class name`},
		{`{"class":""}`, `'' is not a valid class name`},
		{`{"class":"A","properties":[{"name":"a","dataType":["foo"]}]}`, `property 'a': invalid dataType: [foo]: unknown primitive data type 'foo'`},
		{`{"class":"A","properties":[{"name":"a","dataType":[""]}]}`, `property 'a': invalid dataType: []: unknown primitive data type ''`},
		{`{"class":"A","properties":[{"name":"a","dataType":["phoneNumber[]"]}]}`, `property 'a': invalid dataType: [phoneNumber[]]: unknown primitive data type 'phoneNumber[]'`},
		{`{"class":"A","properties":[{"name":"a","dataType":["geoCoordinates[]"]}]}`, `property 'a': invalid dataType: [geoCoordinates[]]: unknown primitive data type 'geoCoordinates[]'`},
		{`{"class":"A","properties":[{"name":"a","dataType":[]}]}`, `property 'a': dataType must have at least one element`},
		{`{"class":"A","properties":[{"name":"a"}]}`, `property 'a': dataType must have at least one element`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object"]}]}`, `property 'o': At least one nested property is required for data type object/object[]`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object[]"],"nestedProperties":[]}]}`, `property 'o': At least one nested property is required for data type object/object[]`},
		{`{"class":"A","properties":[{"name":"title","dataType":["text"]},{"name":"title","dataType":["int"]}]}`, `class "A": conflict for property "title": already in use or provided multiple times`},
		{`{"class":"A","properties":[{"name":"title","dataType":["text"]},{"name":"tITLE","dataType":["int"]}]}`, `class "A": conflict for property "tITLE": already in use or provided multiple times`},
		{`{"class":"A","vectorizer":"text2vec-openai"}`, `vectorizer: no module with name "text2vec-openai" present`},
		{`{"class":"A","vectorConfig":{"v":{"vectorizer":{"text2vec-openai":{}}}}}`, `vectorConfig "v": vectorizer: no module with name "text2vec-openai" present`},
		{`{"class":"A","vectorConfig":{"v":{"vectorizer":"text2vec-cohere"}}}`, `vectorConfig "v": vectorizer: no module with name "text2vec-cohere" present`},
		{`{"class":"A","vectorConfig":{"bad name":{}}}`, `vectorConfig: "bad name" is not a valid vector name`},
		{`{"class":"A","vectorIndexConfig":{"distance":"euclid"}}`, `vectorIndexConfig: unsupported distance euclid, use one of cosine, dot, l2-squared, hamming, manhattan`},
		{`{"class":"A","vectorIndexConfig":{"distance":5}}`, `vectorIndexConfig: unsupported distance 5…`},
		{`{"class":"A","vectorConfig":{"v":{"vectorIndexConfig":{"distance":"cos"}}}}`, `vectorConfig "v": vectorIndexConfig: unsupported distance cos…`},
		{`{"class":"A","vectorIndexType":"ivf"}`, `unrecognized or unsupported vectorIndexType "ivf"`},
		{`{"class":"A","vectorConfig":{"v":{"vectorIndexType":"ivf"}}}`, `vectorConfig "v": unrecognized or unsupported vectorIndexType "ivf"`},
		{`{"class":"A","vectorIndexConfig":{"ef":"big"}}`, `vectorIndexConfig.ef must be an integer between -1 and 100000, got "big"`},
		{`{"class":"A","properties":[{"name":"1a","dataType":["text"]}]}`, `'1a' is not a valid property name…`},
		{`{"class":"A","properties":[{"name":"id","dataType":["text"]}]}`, `'id' is a reserved property name`},
		{`{"class":"A","properties":[{"name":"_additional","dataType":["text"]}]}`, `'_additional' is a reserved property name`},
		{`{"class":"A","properties":[{"name":"n","dataType":["int"],"tokenization":"word"}]}`, `Tokenization is not allowed for data type 'int'`},
		{`{"class":"A","properties":[{"name":"t","dataType":["text"],"tokenization":"nonsense"}]}`, `property 't': tokenization 'nonsense' is not allowed`},
		{`{"class":"A","properties":[{"name":"r","dataType":["Nope"]}]}`, `property 'r': invalid dataType: [Nope]: reference property to nonexistent class "Nope"`},
		{`{"class":"A","properties":[{"name":"r","dataType":["Article","bad"]}]}`, `property 'r': invalid dataType: [Article bad]: 'bad' is not a valid class name`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object"],"nestedProperties":[{"name":"r","dataType":["Article"]}]}]}`, `property 'o.r': cross-references are not allowed in nested properties`},
		{`{"class":"A","properties":[{"name":"t","dataType":["text"],"nestedProperties":[{"name":"x","dataType":["text"]}]}]}`, `property 't': nestedProperties are only allowed for data type object/object[]`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["text"]},{"name":"x","dataType":["int"]}]}]}`, `property 'o': nested property 'x' is defined twice`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["foo"]}]}]}`, `property 'o.x': invalid dataType: [foo]: unknown primitive data type 'foo'`},
		{`{"class":"A","properties":[{"name":"o","dataType":["object"],"nestedProperties":[null]}]}`, `property 'o': nested property must not be null`},
		{`{"class":"A","properties":[null]}`, `property: must not be null`},
	} {
		c := decodeClass(t, tc.class)
		err := c.Validate(known)
		if err == nil {
			t.Errorf("Validate(%s): no error, want %q", tc.class, tc.want)
			continue
		}
		if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Validate(%s):\n got %q\nwant prefix %q", tc.class, err, prefix)
			}
		} else if err.Error() != tc.want {
			t.Errorf("Validate(%s):\n got %q\nwant %q", tc.class, err, tc.want)
		}
	}
}

func TestValidateNormalisedBadName(t *testing.T) {
	c := decodeClass(t, `{"class":"bad Name"}`)
	c.Normalize()
	if err := c.Validate(nil); err == nil || err.Error() != `'Bad Name' is not a valid class name` {
		t.Fatalf("err = %v", err)
	}
	// A lower-case name becomes valid once normalised.
	c = decodeClass(t, `{"class":"article2","properties":[{"name":"Title","dataType":["text"]}]}`)
	c.Normalize()
	if err := c.Validate(nil); err != nil {
		t.Fatal(err)
	}
}

func TestParseDataType(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want DataType
	}{
		{[]string{"text"}, DataType{Name: "text"}},
		{[]string{"text[]"}, DataType{Name: "text", Array: true}},
		{[]string{"int[]"}, DataType{Name: "int", Array: true}},
		{[]string{"object[]"}, DataType{Name: "object", Array: true}},
		{[]string{"geoCoordinates"}, DataType{Name: "geoCoordinates"}},
		{[]string{"string[]"}, DataType{Name: "string", Array: true}},
		{[]string{"Article"}, DataType{Name: "Article", Ref: true}},
		{[]string{"Article", "Other"}, DataType{Name: "Article", Ref: true}},
	} {
		got, err := ParseDataType(tc.in, nil)
		if err != nil || got != tc.want {
			t.Errorf("ParseDataType(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range [][]string{nil, {""}, {"[]"}, {"foo"}, {"text", "int"}, {"Foo[]"}, {"blob[]"}} {
		if got, err := ParseDataType(in, nil); err == nil {
			t.Errorf("ParseDataType(%q) = %+v, want an error", in, got)
		}
	}
	if _, err := ParseDataType([]string{"Article"}, func(string) bool { return false }); err == nil {
		t.Error("reference to unknown class accepted")
	}
	dt, _ := ParseDataType([]string{"text[]"}, nil)
	if dt.String() != "text[]" || !dt.IsText() || dt.IsObject() || dt.IsRef() {
		t.Errorf("text[] helpers: %q %v %v %v", dt.String(), dt.IsText(), dt.IsObject(), dt.IsRef())
	}
	dt, _ = ParseDataType([]string{"object"}, nil)
	if dt.String() != "object" || dt.IsText() || !dt.IsObject() {
		t.Errorf("object helpers wrong")
	}
	dt, _ = ParseDataType([]string{"string"}, nil)
	if !dt.IsText() {
		t.Errorf("string is not text")
	}
}

func TestClassHelpers(t *testing.T) {
	c := decodeClass(t, `{"class":"A","vectorIndexConfig":{"distance":"dot"},
		"vectorConfig":{"v1":{"vectorIndexConfig":{"distance":"l2-squared"}},"v2":{}},
		"multiTenancyConfig":{"enabled":true}}`)
	if d := c.Distance(""); d != "dot" {
		t.Errorf("Distance(\"\") = %q", d)
	}
	if d := c.Distance("v1"); d != "l2-squared" {
		t.Errorf("Distance(v1) = %q", d)
	}
	if d := c.Distance("v2"); d != "cosine" {
		t.Errorf("Distance(v2) = %q", d)
	}
	if d := c.Distance("missing"); d != "cosine" {
		t.Errorf("Distance(missing) = %q", d)
	}
	if d := (&Class{Class: "B"}).Distance(""); d != "cosine" {
		t.Errorf("default distance = %q", d)
	}
	if !c.MultiTenant() {
		t.Error("MultiTenant() = false")
	}
	if (&Class{}).MultiTenant() {
		t.Error("MultiTenant() of a class without config = true")
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := decodeClass(t, `{"class":"A","properties":[{"name":"o","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["text"]}]}],
		"vectorIndexConfig":{"distance":"dot","pq":{"enabled":false}},"vectorConfig":{"v":{"vectorIndexConfig":{"distance":"dot"}}}}`)
	c.SetDefaults()
	before, _ := json.Marshal(c)
	cl := c.Clone()
	after, _ := json.Marshal(cl)
	if !bytes.Equal(before, after) {
		t.Fatalf("clone differs:\n%s\n%s", before, after)
	}
	cl.Properties[0].NestedProperties[0].Name = "changed"
	*cl.Properties[0].IndexFilterable = false
	cl.VectorIndexConfig["pq"].(map[string]any)["enabled"] = true
	cl.VectorConfig["v"].VectorIndexConfig["distance"] = "l2-squared"
	cl.MultiTenancyConfig.Enabled = true
	now, _ := json.Marshal(c)
	if !bytes.Equal(before, now) {
		t.Fatalf("changing the clone changed the original:\n%s\n%s", before, now)
	}
}
