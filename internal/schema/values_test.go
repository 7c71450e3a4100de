package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// decodeProps decodes object properties the way handlers do (UseNumber).
func decodeProps(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

func decodeValue(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// allTypes is a class with one property of every type.
func allTypes(t *testing.T) *Class {
	return create(t, `{"class":"X","properties":[
		{"name":"t","dataType":["text"]},{"name":"ta","dataType":["text[]"]},
		{"name":"s","dataType":["string"]},
		{"name":"i","dataType":["int"]},{"name":"ia","dataType":["int[]"]},
		{"name":"n","dataType":["number"]},{"name":"na","dataType":["number[]"]},
		{"name":"b","dataType":["boolean"]},{"name":"ba","dataType":["boolean[]"]},
		{"name":"d","dataType":["date"]},{"name":"da","dataType":["date[]"]},
		{"name":"u","dataType":["uuid"]},{"name":"ua","dataType":["uuid[]"]},
		{"name":"g","dataType":["geoCoordinates"]},
		{"name":"p","dataType":["phoneNumber"]},
		{"name":"bl","dataType":["blob"]},
		{"name":"r","dataType":["X"]},
		{"name":"o","dataType":["object"],"nestedProperties":[
			{"name":"name","dataType":["text"]},{"name":"count","dataType":["int"]},
			{"name":"inner","dataType":["object[]"],"nestedProperties":[{"name":"z","dataType":["int[]"]}]}]},
		{"name":"oa","dataType":["object[]"],"nestedProperties":[{"name":"k","dataType":["number"]}]}]}`)
}

func TestValidatePropertiesGood(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"t":"hello"}`, `{"t":"hello"}`},
		{`{"t":""}`, `{"t":""}`},
		{`{"ta":["a","b"]}`, `{"ta":["a","b"]}`},
		{`{"ta":[]}`, `{"ta":[]}`},
		{`{"s":"old style"}`, `{"s":"old style"}`},
		{`{"i":3}`, `{"i":3}`},
		{`{"i":-42}`, `{"i":-42}`},
		{`{"i":3.0}`, `{"i":3}`},
		{`{"i":1e2}`, `{"i":100}`},
		{`{"i":9007199254740993}`, `{"i":9007199254740993}`},
		{`{"ia":[1,2,3.0]}`, `{"ia":[1,2,3]}`},
		{`{"n":1.5}`, `{"n":1.5}`},
		{`{"n":3}`, `{"n":3}`},
		{`{"n":-2.5e-3}`, `{"n":-2.5e-3}`},
		{`{"na":[1,2.5]}`, `{"na":[1,2.5]}`},
		{`{"b":true}`, `{"b":true}`},
		{`{"ba":[true,false]}`, `{"ba":[true,false]}`},
		{`{"d":"2024-01-02T03:04:05+02:00"}`, `{"d":"2024-01-02T03:04:05+02:00"}`},
		{`{"d":"2024-01-02T03:04:05.123456789Z"}`, `{"d":"2024-01-02T03:04:05.123456789Z"}`},
		{`{"da":["2024-01-02T03:04:05Z","1999-12-31T23:59:59-08:00"]}`, `{"da":["2024-01-02T03:04:05Z","1999-12-31T23:59:59-08:00"]}`},
		{`{"u":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`, `{"u":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`},
		{`{"ua":["00000000-0000-0000-0000-000000000001"]}`, `{"ua":["00000000-0000-0000-0000-000000000001"]}`},
		{`{"g":{"latitude":52.1,"longitude":4.3}}`, `{"g":{"latitude":52.1,"longitude":4.3}}`},
		{`{"p":{"input":"020 1234567","defaultCountry":"nl"}}`, `{"p":{"defaultCountry":"nl","input":"020 1234567"}}`},
		{`{"bl":"aGVsbG8="}`, `{"bl":"aGVsbG8="}`},
		{`{"r":[{"beacon":"weaviate://localhost/X/00000000-0000-0000-0000-000000000001"}]}`, `{"r":[{"beacon":"weaviate://localhost/X/00000000-0000-0000-0000-000000000001"}]}`},
		{`{"r":[{"beacon":"weaviate://localhost/00000000-0000-0000-0000-000000000001"}]}`, `{"r":[{"beacon":"weaviate://localhost/00000000-0000-0000-0000-000000000001"}]}`},
		{`{"o":{"name":"n","count":2.0,"inner":[{"z":[1,2]},{"z":[]}]}}`, `{"o":{"count":2,"inner":[{"z":[1,2]},{"z":[]}],"name":"n"}}`},
		{`{"o":{"name":null,"count":1}}`, `{"o":{"count":1}}`},
		{`{"oa":[{"k":1.5},{"k":2}]}`, `{"oa":[{"k":1.5},{"k":2}]}`},
		// Nulls are dropped, names normalised.
		{`{"t":null,"i":null}`, `{}`},
		{`{"T":"x","WordCount":null,"I":7}`, `{"i":7,"t":"x"}`},
		{`{}`, `{}`},
	} {
		c := allTypes(t)
		props := decodeProps(t, tc.in)
		if err := c.ValidateProperties(props); err != nil {
			t.Errorf("ValidateProperties(%s): %v", tc.in, err)
			continue
		}
		// Canonical output must be exactly this JSON text (map keys sorted):
		// ints re-rendered as integers, other numbers kept as given.
		got, _ := json.Marshal(props)
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(tc.want)); err != nil {
			t.Fatal(err)
		}
		if string(got) != want.String() {
			t.Errorf("ValidateProperties(%s) = %s, want %s", tc.in, got, want.String())
		}
	}
}

func TestValidatePropertiesIntCanonical(t *testing.T) {
	c := allTypes(t)
	props := decodeProps(t, `{"i":3.0,"ia":[1e1]}`)
	if err := c.ValidateProperties(props); err != nil {
		t.Fatal(err)
	}
	if props["i"] != json.Number("3") {
		t.Errorf("i = %#v, want json.Number(\"3\")", props["i"])
	}
	if a := props["ia"].([]any); a[0] != json.Number("10") {
		t.Errorf("ia = %#v", a)
	}
}

func TestValidatePropertiesBad(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"i":1.5}`, `invalid integer property 'i' on class 'X': the JSON number '1.5' could not be converted to an int`},
		{`{"i":"bad"}`, `invalid integer property 'i' on class 'X': requires an integer, the given value is 'bad'`},
		{`{"i":1e300}`, `invalid integer property 'i' on class 'X': the JSON number '1e300' could not be converted to an int`},
		{`{"i":true}`, `invalid integer property 'i' on class 'X': requires an integer, the given value is 'true'`},
		{`{"ia":[1,2.5]}`, `invalid integer property 'ia' on class 'X': the JSON number '2.5' could not be converted to an int`},
		{`{"ia":3}`, `invalid int[] property 'ia' on class 'X': not an array, but json.Number`},
		{`{"t":5}`, `invalid text property 't' on class 'X': not a string, but json.Number`},
		{`{"t":["a"]}`, `invalid text property 't' on class 'X': not a string, but array`},
		{`{"ta":"a"}`, `invalid text[] property 'ta' on class 'X': not an array, but string`},
		{`{"ta":["a",1]}`, `invalid text property 'ta' on class 'X': not a string, but json.Number`},
		{`{"ta":["a",null]}`, `invalid text property 'ta' on class 'X': not a string, but <nil>`},
		{`{"n":"1.5"}`, `invalid number property 'n' on class 'X': requires a float, the given value is '1.5'`},
		{`{"n":1e400}`, `invalid number property 'n' on class 'X': the JSON number '1e400' could not be converted to a float`},
		{`{"b":"true"}`, `invalid boolean property 'b' on class 'X': requires a bool, the given value is 'true'`},
		{`{"ba":[true,0]}`, `invalid boolean property 'ba' on class 'X': requires a bool, the given value is '0'`},
		{`{"d":"2024-01-02"}`, `invalid date property 'd' on class 'X': requires a string with a RFC3339 formatted date, but the given value is '2024-01-02'`},
		{`{"d":"2024-01-02 03:04:05"}`, `invalid date property 'd' on class 'X': requires a string with a RFC3339 formatted date, but the given value is '2024-01-02 03:04:05'`},
		{`{"d":1700000000}`, `invalid date property 'd' on class 'X': requires a string with a RFC3339 formatted date, but the given value is '1700000000'`},
		{`{"u":"not-a-uuid"}`, `invalid uuid property 'u' on class 'X': requires a valid UUID, the given value is 'not-a-uuid'`},
		{`{"u":1}`, `invalid uuid property 'u' on class 'X': requires a string, the given value is '1'`},
		{`{"ua":["00000000-0000-0000-0000-000000000001","x"]}`, `invalid uuid property 'ua' on class 'X': requires a valid UUID, the given value is 'x'`},
		{`{"g":{"latitude":52.1}}`, `invalid geoCoordinates property 'g' on class 'X': longitude must be a number`},
		{`{"g":{"latitude":"52.1","longitude":4}}`, `invalid geoCoordinates property 'g' on class 'X': latitude must be a number`},
		{`{"g":[52.1,4.3]}`, `invalid geoCoordinates property 'g' on class 'X': requires an object with latitude and longitude`},
		{`{"p":"020 1234567"}`, `invalid phoneNumber property 'p' on class 'X': requires an object with an input field`},
		{`{"p":{"input":20}}`, `invalid phoneNumber property 'p' on class 'X': field 'input' must be a string`},
		{`{"bl":"***"}`, `invalid blob property 'bl' on class 'X': not a valid base64 string`},
		{`{"bl":5}`, `invalid blob property 'bl' on class 'X': not a string, but json.Number`},
		{`{"r":{"beacon":"weaviate://localhost/X/00000000-0000-0000-0000-000000000001"}}`, `invalid cref property 'r' on class 'X': expected a list of references`},
		{`{"r":[{"beacon":"http://x"}]}`, `invalid cref property 'r' on class 'X': each reference needs a beacon like weaviate://localhost/<Class>/<uuid>`},
		{`{"r":["weaviate://localhost/X/00000000-0000-0000-0000-000000000001"]}`, `invalid cref property 'r' on class 'X': each reference needs a beacon like weaviate://localhost/<Class>/<uuid>`},
		{`{"o":"x"}`, `invalid object property 'o' on class 'X': not an object, but string`},
		{`{"o":{"nope":1}}`, `invalid object property 'o' on class 'X': nested property 'nope' is not defined`},
		{`{"o":{"count":1.5}}`, `invalid integer property 'count' on class 'X': the JSON number '1.5' could not be converted to an int`},
		{`{"o":{"inner":[{"z":["a"]}]}}`, `invalid integer property 'z' on class 'X': requires an integer, the given value is 'a'`},
		{`{"oa":{"k":1}}`, `invalid object[] property 'oa' on class 'X': not an array, but object`},
		{`{"oa":[{"k":1},5]}`, `invalid object property 'oa' on class 'X': not an object, but json.Number`},
		{`{"T":"x","t":"y"}`, `property 't' is given twice`},
	} {
		c := allTypes(t)
		err := c.ValidateProperties(decodeProps(t, tc.in))
		if err == nil {
			t.Errorf("ValidateProperties(%s): no error, want %q", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ValidateProperties(%s):\n got %q\nwant %q", tc.in, err, tc.want)
		}
		var upe *UnknownPropertyError
		if errors.As(err, &upe) {
			t.Errorf("ValidateProperties(%s): type error reported as unknown property", tc.in)
		}
	}
}

func TestValidatePropertiesUnknown(t *testing.T) {
	c := create(t, `{"class":"Article","properties":[{"name":"title","dataType":["text"]}]}`)
	props := decodeProps(t, `{"title":"x","Author":"y"}`)
	err := c.ValidateProperties(props)
	var upe *UnknownPropertyError
	if !errors.As(err, &upe) {
		t.Fatalf("err = %#v, want *UnknownPropertyError", err)
	}
	if upe.Class != "Article" || upe.Property != "author" {
		t.Fatalf("UnknownPropertyError = %+v", upe)
	}
	const msg = "no such prop with name 'author' found in class 'Article' in the schema. Check your schema files for which properties in this class are available"
	if err.Error() != msg {
		t.Fatalf("message %q", err)
	}
	// A null value for an unknown property is simply dropped.
	props = decodeProps(t, `{"title":"x","ghost":null}`)
	if err := c.ValidateProperties(props); err != nil {
		t.Fatalf("null unknown property: %v", err)
	}
	if _, ok := props["ghost"]; ok || len(props) != 1 {
		t.Fatalf("props = %v", props)
	}
}

func TestValidatePropertiesManyRenames(t *testing.T) {
	// Many renames in one map (map iteration may revisit inserted keys).
	var b strings.Builder
	b.WriteString(`{"class":"M","properties":[`)
	in := map[string]any{}
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		name := "p" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		b.WriteString(`{"name":"` + name + `","dataType":["int"]}`)
		in["P"+name[1:]] = json.Number("7")
	}
	b.WriteString(`]}`)
	c := create(t, b.String())
	if err := c.ValidateProperties(in); err != nil {
		t.Fatal(err)
	}
	if len(in) != 50 {
		t.Fatalf("%d properties after validation, want 50", len(in))
	}
	for k, v := range in {
		if c.Property(k) == nil || v != json.Number("7") {
			t.Fatalf("property %q = %v", k, v)
		}
	}
}

func TestInferProperty(t *testing.T) {
	now := time.Date(2024, time.January, 15, 10, 4, 5, 0, time.UTC)
	desc := "This property was generated by Weaviate's auto-schema feature on Mon Jan 15 10:04:05 2024"
	textDefaults := `"tokenization":"word","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false`
	otherDefaults := `"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false`
	for _, tc := range []struct{ name, value, want string }{
		{"Title", `"hello"`, `{"name":"title","dataType":["text"],"description":"` + desc + `",` + textDefaults + `}`},
		{"when", `"2024-01-02T03:04:05+02:00"`, `{"name":"when","dataType":["date"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"when", `"2024-01-02T03:04:05.5Z"`, `{"name":"when","dataType":["date"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"ref", `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`, `{"name":"ref","dataType":["uuid"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"t", `"6ba7b8109dad11d180b400c04fd430c8"`, `{"name":"t","dataType":["text"],"description":"` + desc + `",` + textDefaults + `}`},
		{"t", `"2024-01-02"`, `{"name":"t","dataType":["text"],"description":"` + desc + `",` + textDefaults + `}`},
		{"count", `3`, `{"name":"count","dataType":["number"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"x", `1.5`, `{"name":"x","dataType":["number"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"ok", `true`, `{"name":"ok","dataType":["boolean"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"tags", `["a","b"]`, `{"name":"tags","dataType":["text[]"],"description":"` + desc + `",` + textDefaults + `}`},
		{"nums", `[1,2]`, `{"name":"nums","dataType":["number[]"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"flags", `[true]`, `{"name":"flags","dataType":["boolean[]"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"dates", `["2024-01-02T03:04:05Z"]`, `{"name":"dates","dataType":["date[]"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"ids", `["00000000-0000-0000-0000-000000000001"]`, `{"name":"ids","dataType":["uuid[]"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"loc", `{"latitude":52.1,"longitude":4.3}`, `{"name":"loc","dataType":["geoCoordinates"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"phone", `{"input":"020 1234567","defaultCountry":"nl"}`, `{"name":"phone","dataType":["phoneNumber"],"description":"` + desc + `",` + otherDefaults + `}`},
		{"Meta", `{"b":1,"a":"x","skip":null,"deep":{"c":true}}`, `{"name":"meta","dataType":["object"],"description":"` + desc + `",` + otherDefaults + `,"nestedProperties":[
			{"name":"a","dataType":["text"],` + textDefaults + `},
			{"name":"b","dataType":["number"],` + otherDefaults + `},
			{"name":"deep","dataType":["object"],` + otherDefaults + `,"nestedProperties":[{"name":"c","dataType":["boolean"],` + otherDefaults + `}]}]}`},
		{"items", `[{"a":"x"},{"b":2,"a":"y"},{"c":null}]`, `{"name":"items","dataType":["object[]"],"description":"` + desc + `",` + otherDefaults + `,"nestedProperties":[
			{"name":"a","dataType":["text"],` + textDefaults + `},
			{"name":"b","dataType":["number"],` + otherDefaults + `}]}`},
	} {
		p, ok := InferProperty(tc.name, decodeValue(t, tc.value), now)
		if !ok {
			t.Errorf("InferProperty(%q, %s): not ok", tc.name, tc.value)
			continue
		}
		jsonEqual(t, "InferProperty("+tc.value+")", p, tc.want)

		// What auto-schema creates must be a valid property that accepts the value.
		c := create(t, `{"class":"Auto"}`)
		c.Properties = append(c.Properties, p)
		if err := c.Validate(nil); err != nil {
			t.Errorf("inferred property for %s is invalid: %v", tc.value, err)
			continue
		}
		props := map[string]any{tc.name: decodeValue(t, tc.value)}
		if err := c.ValidateProperties(props); err != nil {
			t.Errorf("value %s rejected by its own inferred property: %v", tc.value, err)
		}
	}
}

func TestInferPropertyDescriptionDate(t *testing.T) {
	// Weaviate formats the date as time.ANSIC: day padded to width 2 with a space.
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2023, time.October, 29, 16, 27, 55, 0, time.UTC), "Sun Oct 29 16:27:55 2023"},
		{time.Date(2024, time.March, 5, 9, 0, 1, 0, time.UTC), "Tue Mar  5 09:00:01 2024"},
	} {
		p, ok := InferProperty("x", "text", tc.at)
		if !ok {
			t.Fatal("not ok")
		}
		want := "This property was generated by Weaviate's auto-schema feature on " + tc.want
		if p.Description != want {
			t.Errorf("description %q, want %q", p.Description, want)
		}
	}
}

func TestInferPropertyNotInferable(t *testing.T) {
	now := time.Now()
	for _, v := range []string{
		`null`, `[]`, `[null]`, `{}`, `{"x":null}`,
		`[{"beacon":"weaviate://localhost/A/00000000-0000-0000-0000-000000000001"}]`,
		`{"beacon":"weaviate://localhost/A/00000000-0000-0000-0000-000000000001"}`,
		`[[1,2],[3]]`, `[["a"]]`,
		`[{"latitude":1,"longitude":2}]`,
	} {
		if p, ok := InferProperty("x", decodeValue(t, v), now); ok {
			t.Errorf("InferProperty(%s) = %+v, want not ok", v, p)
		}
	}
	// Values must come from a UseNumber decoder; a float64 is not inferred.
	if _, ok := InferProperty("x", 1.5, now); ok {
		t.Error("float64 inferred")
	}
}
