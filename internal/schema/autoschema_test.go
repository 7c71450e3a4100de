package schema

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExtendMergesNestedProperties(t *testing.T) {
	now := time.Now()
	c := create(t, `{"class":"E","properties":[{"name":"meta","dataType":["object"],"nestedProperties":[{"name":"a","dataType":["text"]}]}]}`)
	v := map[string]any{"meta": decodeValue(t, `{"a":"x","b":1,"in":{"c":true}}`)}
	if !c.NeedsExtension(v) {
		t.Fatal("NeedsExtension = false for a new nested key")
	}
	changed, err := c.Extend(v, now, DefaultAutoSchemaLimits())
	if err != nil || !changed {
		t.Fatalf("Extend = %v, %v", changed, err)
	}
	jsonEqual(t, "meta", c.Property("meta").NestedProperties, `[
		{"name":"a","dataType":["text"],"tokenization":"word","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"b","dataType":["number"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"in","dataType":["object"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false,
		 "nestedProperties":[{"name":"c","dataType":["boolean"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false}]}]`)
	if err := c.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateProperties(map[string]any{"meta": decodeValue(t, `{"a":"x","b":1,"in":{"c":true}}`)}); err != nil {
		t.Fatalf("the value is not valid against the extended class: %v", err)
	}
	if c.NeedsExtension(v) {
		t.Fatal("NeedsExtension = true after Extend")
	}
	if changed, err := c.Extend(v, now, DefaultAutoSchemaLimits()); changed || err != nil {
		t.Fatalf("second Extend = %v, %v", changed, err)
	}
}

func TestExtendLimits(t *testing.T) {
	lim := AutoSchemaLimits{MaxDepth: 3, MaxWidth: 2, MaxProperties: 4}
	for _, tc := range []struct{ value, path, limit string }{
		{`{"a":{"b":{"c":{"d":1}}}}`, "a.b.c.d", "nesting depth"},
		{`{"a":{"x":1,"y":2,"z":3}}`, "a", "properties per object"},
		{`{"x":1,"y":2,"z":3}`, "z", "properties per object"},
		{`{"a":{"x":1,"y":2},"b":{"x":1}}`, "*", "properties per class"},
		{`{"a":[{"x":1},{"y":{"z":{"w":1}}}]}`, "a.y.z.w", "nesting depth"},
	} {
		c := &Class{Class: "L"}
		_, err := c.Extend(decodeValue(t, tc.value).(map[string]any), time.Now(), lim)
		var le *AutoSchemaLimitError
		if !errors.As(err, &le) || le.Path != tc.path || le.Limit != tc.limit {
			t.Errorf("Extend(%s) = %v, want %s limit at %s", tc.value, err, tc.limit, tc.path)
		}
	}
	// Exactly at the limits is fine.
	c := &Class{Class: "L"}
	if _, err := c.Extend(decodeValue(t, `{"a":{"b":{"c":1}},"d":1}`).(map[string]any), time.Now(), lim); err != nil {
		t.Fatal(err)
	}
}

// TestValidatePropertiesBoundsValueDepth: values that are not checked
// against nested properties (extra keys of a geo or phone value, reference
// objects) still cannot nest without bound.
func TestValidatePropertiesBoundsValueDepth(t *testing.T) {
	c := create(t, `{"class":"G","properties":[{"name":"loc","dataType":["geoCoordinates"]}]}`)
	deep := strings.Repeat(`{"x":`, MaxValueDepth) + `1` + strings.Repeat(`}`, MaxValueDepth)
	err := c.ValidateProperties(map[string]any{"loc": decodeValue(t, `{"latitude":1,"longitude":2,"extra":`+deep+`}`)})
	if err == nil || !strings.Contains(err.Error(), "value nests deeper than 128 levels") {
		t.Fatalf("err = %v", err)
	}
	if err := c.ValidateProperties(map[string]any{"loc": decodeValue(t, `{"latitude":1,"longitude":2}`)}); err != nil {
		t.Fatal(err)
	}
}

// TestExtendIgnoresMismatchedShapes: a value of the wrong shape for an
// object property adds nothing (validation refuses the write), so the
// refused write leaves the schema as it was.
func TestExtendIgnoresMismatchedShapes(t *testing.T) {
	c := create(t, `{"class":"M","properties":[
		{"name":"one","dataType":["object"],"nestedProperties":[{"name":"a","dataType":["text"]}]},
		{"name":"many","dataType":["object[]"],"nestedProperties":[{"name":"a","dataType":["text"]}]}]}`)
	v := decodeValue(t, `{"one":[{"b":1}],"many":{"b":1}}`).(map[string]any)
	if c.NeedsExtension(v) {
		t.Error("NeedsExtension = true for mismatched shapes")
	}
	if changed, err := c.Extend(v, time.Now(), DefaultAutoSchemaLimits()); changed || err != nil {
		t.Fatalf("Extend = %v, %v", changed, err)
	}
}
