package filter

import (
	"math"
	"strings"
	"testing"
	"time"

	"strata/internal/schema"
)

func bptr(b bool) *bool { return &b }

func testClass() *schema.Class {
	p := func(name string, dt ...string) *schema.Property { return &schema.Property{Name: name, DataType: dt} }
	unfilterable := p("secret", "int")
	unfilterable.IndexFilterable = bptr(false)
	searchOnly := p("body", "text")
	searchOnly.IndexFilterable = bptr(false)
	rangeOnly := p("rank", "int")
	rangeOnly.IndexFilterable, rangeOnly.IndexRangeFilters = bptr(false), bptr(true)
	nested := p("meta", "object")
	nested.NestedProperties = []*schema.Property{p("a", "text")}
	return &schema.Class{Class: "Article", Properties: []*schema.Property{
		p("title", "text"), p("tags", "text[]"), p("wordCount", "int"), p("nums", "int[]"),
		p("score", "number"), p("flag", "boolean"), p("when", "date"), p("ref", "uuid"), p("refs", "uuid[]"),
		unfilterable, searchOnly, rangeOnly, nested, p("geo", "geoCoordinates"), p("pic", "blob"),
		p("cites", "Article"), p("old", "string"),
	}}
}

func txt(op Operator, prop string, vals ...string) *Clause {
	return &Clause{Operator: op, Property: prop, Value: Value{Type: TypeText, Texts: vals, Array: len(vals) > 1}}
}

func integer(op Operator, prop string, v int64) *Clause {
	return &Clause{Operator: op, Property: prop, Value: Value{Type: TypeInt, Ints: []int64{v}}}
}

func TestValidateAccepts(t *testing.T) {
	class := testClass()
	now := time.Now()
	for _, c := range []*Clause{
		nil,
		txt(Equal, "title", "x"),
		txt(Like, "title", "x*"),
		txt(ContainsAny, "tags", "a", "b"),
		txt(ContainsAll, "tags", "a"),
		txt(Equal, "old", "x"),
		integer(GreaterThan, "wordCount", 3),
		integer(Equal, "nums", 3),
		{Operator: ContainsNone, Property: "nums", Value: Value{Type: TypeInt, Array: true, Ints: []int64{1, 2}}},
		{Operator: LessThan, Property: "score", Value: Value{Type: TypeNumber, Numbers: []float64{1.5}}},
		{Operator: Equal, Property: "flag", Value: Value{Type: TypeBoolean, Booleans: []bool{true}}},
		{Operator: GreaterThan, Property: "when", Value: Value{Type: TypeDate, Dates: []time.Time{now}}},
		txt(Equal, "ref", "00000000-0000-0000-0000-000000000001"),
		txt(ContainsAny, "refs", "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"),
		{Operator: IsNull, Property: "wordCount", Value: Value{Type: TypeBoolean, Booleans: []bool{true}}},
		txt(Equal, "body", "searchable text is filterable"),
		integer(LessThan, "rank", 3),
		txt(Equal, PropID, "00000000-0000-0000-0000-000000000001"),
		txt(GreaterThan, PropCreationTime, "1700000000000"),
		{Operator: LessThan, Property: PropLastUpdateTime, Value: Value{Type: TypeDate, Dates: []time.Time{now}}},
		{Operator: And, Operands: []*Clause{txt(Equal, "title", "x"), {Operator: Not, Operands: []*Clause{integer(Equal, "wordCount", 1)}}}},
	} {
		if err := Validate(c, class); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	class := testClass()
	cases := []struct {
		c    *Clause
		want string
	}{
		{txt(Equal, "nope", "x"), "no such prop with name 'nope' found in class 'Article' in the schema"},
		{txt(Equal, "wordCount", "3"), `data type filter cannot use "valueText" on type "int", use "valueInt" instead`},
		{integer(Equal, "score", 3), `data type filter cannot use "valueInt" on type "number", use "valueNumber" instead`},
		{integer(Equal, "tags", 3), `data type filter cannot use "valueInt" on type "text[]", use "valueText" instead`},
		{txt(Equal, "when", "2024-01-01T00:00:00Z"), `use "valueDate" instead`},
		{integer(Like, "wordCount", 3), `operator Like needs a text property, but property "wordCount" is of type "int"`},
		{txt(IsNull, "title", "x"), "operator IsNull requires a booleanValue, got valueText instead"},
		{integer(Equal, "ref", 1), `property "ref" is of type "uuid" or "uuid[]": specify uuid as string using "valueText"`},
		{txt(Equal, "ref", "nope"), `property "ref": "nope" is not a valid uuid`},
		{txt(Like, "ref", "0000*"), `operator "Like" cannot be used on uuid/uuid[] props`},
		{integer(Equal, "secret", 1), "Filtering by property 'secret' requires inverted index. Is `indexFilterable` option of property 'secret' enabled?"},
		{txt(Equal, "meta", "x"), "filtering on nested object properties is not supported"},
		{txt(Equal, "geo", "x"), "geo-range filters (WithinGeoRange) are not supported"},
		{txt(Equal, "pic", "x"), `property "pic" is of type "blob", which cannot be filtered on`},
		{txt(Equal, "cites", "x"), `property "cites" is a cross-reference`},
		{integer(Equal, PropID, 1), `using ["_id"] to filter by uuid: must use "valueText" to specify the id`},
		{txt(Equal, PropID, "x"), `property "_id": "x" is not a valid uuid`},
		{integer(Equal, PropCreationTime, 1), `using ["_creationTimeUnix"] to filter by timestamp: must use "valueText" or "valueDate"`},
		{txt(Equal, PropLastUpdateTime, "yesterday"), `expected value to be a timestamp in milliseconds, got 'yesterday'`},
		{txt(Equal, "tags", "a", "b"), `operator 'Equal' takes a single value, but valueTextArray was given`},
		{&Clause{Operator: Equal, Property: "title"}, "got operator 'Equal', but no value<Type> field set"},
		{&Clause{Operator: Equal, Value: Value{Type: TypeInt, Ints: []int64{1}}}, "field 'path': must have at least one element"},
		{&Clause{Operator: "Near", Property: "title", Value: Value{Type: TypeText, Texts: []string{"x"}}}, "unrecognized operator: Near"},
		{&Clause{Operator: And}, "operator 'And', but no operands set - add at least one operand"},
		{&Clause{Operator: Not, Operands: []*Clause{txt(Equal, "title", "x"), txt(Equal, "title", "y")}}, "too many operands for operator 'Not': expected 1, given 2"},
		{&Clause{Operator: Or, Property: "title", Operands: []*Clause{txt(Equal, "title", "x")}}, "operator 'Or' combines operands: it takes no path and no value"},
		{&Clause{Operator: Equal, Property: "score", Value: Value{Type: TypeNumber, Numbers: []float64{math.NaN()}}}, "is not a number a filter can compare with"},
		{&Clause{Operator: And, Operands: []*Clause{txt(Equal, "title", "x"), txt(Equal, "nope", "x"), integer(Equal, "title", 1)}},
			"child operand at position 1: no such prop with name 'nope' found in class 'Article' in the schema. " +
				"Check your schema files for which properties in this class are available, " +
				`child operand at position 2: data type filter cannot use "valueInt" on type "text", use "valueText" instead`},
	}
	for _, tc := range cases {
		err := Validate(tc.c, class)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tc.c, err, tc.want)
		}
	}
}

func TestIndexed(t *testing.T) {
	class := testClass()
	want := map[string]bool{
		"title": true, "tags": true, "wordCount": true, "nums": true, "score": true, "flag": true, "when": true,
		"ref": true, "refs": true, "secret": false, "body": true, "rank": true, "meta": false, "geo": false,
		"pic": false, "cites": false, "old": true,
	}
	for _, p := range class.Properties {
		if got := Indexed(p); got != want[p.Name] {
			t.Errorf("Indexed(%s) = %v, want %v", p.Name, got, want[p.Name])
		}
	}
}
