package filter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parseJSON(t *testing.T, s string) (*Clause, error) {
	t.Helper()
	var w WhereFilter
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return Parse(&w)
}

func TestParseValues(t *testing.T) {
	day := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("", 2*3600))
	cases := []struct {
		in   string
		want *Clause
	}{
		{`{"operator":"Equal","path":["title"],"valueText":"hi"}`,
			&Clause{Operator: Equal, Property: "title", Value: Value{Type: TypeText, Texts: []string{"hi"}}}},
		{`{"operator":"Equal","path":["id"],"valueText":"00000000-0000-0000-0000-000000000001"}`,
			&Clause{Operator: Equal, Property: PropID, Value: Value{Type: TypeText, Texts: []string{"00000000-0000-0000-0000-000000000001"}}}},
		{`{"operator":"Like","path":["title"],"valueString":"h*"}`,
			&Clause{Operator: Like, Property: "title", Value: Value{Type: TypeText, Texts: []string{"h*"}}}},
		{`{"operator":"GreaterThan","path":["n"],"valueInt":-7}`,
			&Clause{Operator: GreaterThan, Property: "n", Value: Value{Type: TypeInt, Ints: []int64{-7}}}},
		{`{"operator":"LessThanEqual","path":["x"],"valueNumber":1.5}`,
			&Clause{Operator: LessThanEqual, Property: "x", Value: Value{Type: TypeNumber, Numbers: []float64{1.5}}}},
		{`{"operator":"IsNull","path":["x"],"valueBoolean":true}`,
			&Clause{Operator: IsNull, Property: "x", Value: Value{Type: TypeBoolean, Booleans: []bool{true}}}},
		{`{"operator":"Equal","path":["d"],"valueDate":"2024-01-02T03:04:05.0000006+02:00"}`,
			&Clause{Operator: Equal, Property: "d", Value: Value{Type: TypeDate, Dates: []time.Time{day}}}},
		{`{"operator":"ContainsAny","path":["tags"],"valueTextArray":["a","b"]}`,
			&Clause{Operator: ContainsAny, Property: "tags", Value: Value{Type: TypeText, Array: true, Texts: []string{"a", "b"}}}},
		{`{"operator":"ContainsAll","path":["tags"],"valueStringArray":["a"]}`,
			&Clause{Operator: ContainsAll, Property: "tags", Value: Value{Type: TypeText, Array: true, Texts: []string{"a"}}}},
		{`{"operator":"ContainsNone","path":["n"],"valueIntArray":[1,2]}`,
			&Clause{Operator: ContainsNone, Property: "n", Value: Value{Type: TypeInt, Array: true, Ints: []int64{1, 2}}}},
		{`{"operator":"ContainsAny","path":["x"],"valueNumberArray":[0.5]}`,
			&Clause{Operator: ContainsAny, Property: "x", Value: Value{Type: TypeNumber, Array: true, Numbers: []float64{0.5}}}},
		{`{"operator":"ContainsAny","path":["b"],"valueBooleanArray":[false]}`,
			&Clause{Operator: ContainsAny, Property: "b", Value: Value{Type: TypeBoolean, Array: true, Booleans: []bool{false}}}},
		{`{"operator":"ContainsAny","path":["d"],"valueDateArray":["2024-01-02T03:04:05.0000006+02:00"]}`,
			&Clause{Operator: ContainsAny, Property: "d", Value: Value{Type: TypeDate, Array: true, Dates: []time.Time{day}}}},
		{`{"operator":"And","operands":[{"operator":"Equal","path":["a"],"valueInt":1},
		   {"operator":"Not","operands":[{"operator":"Equal","path":["_id"],"valueText":"x"}]}]}`,
			&Clause{Operator: And, Operands: []*Clause{
				{Operator: Equal, Property: "a", Value: Value{Type: TypeInt, Ints: []int64{1}}},
				{Operator: Not, Operands: []*Clause{
					{Operator: Equal, Property: "_id", Value: Value{Type: TypeText, Texts: []string{"x"}}}}},
			}}},
	}
	for _, tc := range cases {
		got, err := parseJSON(t, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
	if c, err := Parse(nil); c != nil || err != nil {
		t.Errorf("Parse(nil) = %v, %v", c, err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"operator":"Equals","path":["a"],"valueInt":1}`, "invalid where filter: unrecognized operator: Equals"},
		{`{"operator":"Equal","path":["a"]}`, "invalid where filter: got operator 'Equal', but no value<Type> field set"},
		{`{"operator":"Equal","path":["a"],"valueIntArray":[]}`, "got operator 'Equal', but no value<Type> field set"},
		{`{"operator":"Equal","path":["a"],"valueInt":1,"valueText":"x"}`, "found more than one values the clause"},
		{`{"operator":"Equal","valueInt":1}`, "field 'path': must have at least one element"},
		{`{"operator":"Equal","path":["ref","Other","name"],"valueText":"x"}`, "filtering on cross-references is not supported"},
		{`{"operator":"And","path":["a"],"operands":[{"operator":"Equal","path":["a"],"valueInt":1}]}`,
			"operator 'And' not compatible with field 'path'"},
		{`{"operator":"Or","valueInt":1,"operands":[{"operator":"Equal","path":["a"],"valueInt":1}]}`,
			"operator 'Or' not compatible with field 'value<Type>'"},
		{`{"operator":"And"}`, "operator 'And', but no operands set - add at least one operand"},
		{`{"operator":"And","operands":[{"operator":"Equal","path":["a"],"valueInt":1},{"operator":"Equal","path":["a"]}]}`,
			"invalid where filter: operand 1: got operator 'Equal', but no value<Type> field set"},
		{`{"operator":"Equal","path":["d"],"valueDate":"yesterday"}`, `valueDate: "yesterday" is not an RFC 3339 date`},
		{`{"operator":"WithinGeoRange","path":["g"],"valueGeoRange":{}}`, "operator 'WithinGeoRange' is not supported"},
		{`{"operator":"Equal","path":["a"],"valueInt":1,"operands":[{"operator":"Equal","path":["a"],"valueInt":1}]}`,
			"operator 'Equal' not compatible with field 'operands'"},
	}
	for _, tc := range cases {
		_, err := parseJSON(t, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// A parsed filter marshals back in Weaviate's echo shape.
func TestWhereFilterEcho(t *testing.T) {
	in := `{"operator":"Equal","path":["wordCount"],"valueInt":1}`
	var w WhereFilter
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"operands":null,"operator":"Equal","path":["wordCount"],"valueInt":1}`; string(out) != want {
		t.Errorf("echo %s, want %s", out, want)
	}
}
