package graphql

import (
	"reflect"
	"testing"

	"strata/internal/filter"
)

func TestGetWhere(t *testing.T) {
	f := newFake()
	got := exec(t, f, Request{Query: `{ Get { Article(limit: 5, offset: 1, where: {operator: And, operands: [
		{path: ["wordCount"], operator: GreaterThan, valueInt: 2},
		{path: "title", operator: Like, valueText: "hel*"},
		{operator: Not, operands: {path: ["tags"], operator: ContainsAny, valueText: ["a", "b"]}}]}) { title } } }`})
	if want := `{"data":{"Get":{"Article":[{"title":"hello world"},{"title":"second"}]}}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	want := &filter.Clause{Operator: filter.And, Operands: []*filter.Clause{
		{Operator: filter.GreaterThan, Property: "wordCount", Value: filter.Value{Type: filter.TypeInt, Ints: []int64{2}}},
		{Operator: filter.Like, Property: "title", Value: filter.Value{Type: filter.TypeText, Texts: []string{"hel*"}}},
		{Operator: filter.Not, Operands: []*filter.Clause{{Operator: filter.ContainsAny, Property: "tags",
			Value: filter.Value{Type: filter.TypeText, Array: true, Texts: []string{"a", "b"}}}}},
	}}
	q := lastQuery(t, f)
	if !reflect.DeepEqual(q.Where, want) || q.Limit != 5 || q.Offset != 1 {
		t.Errorf("query %+v, where %+v; want limit 5 offset 1 where %+v", q, q.Where, want)
	}
}

func TestGetWhereWithVariablesAndNearVector(t *testing.T) {
	f := newFake()
	exec(t, f, Request{
		Query: `query($w: GetObjectsArticleWhereInpObj) { Get { Article(nearVector: {vector: [1, 0]}, where: $w) { title } } }`,
		Variables: map[string]any{"w": map[string]any{
			"path": []any{"wordCount"}, "operator": "ContainsAll", "valueInt": []any{1.0, 2},
		}},
	})
	q := lastQuery(t, f)
	want := &filter.Clause{Operator: filter.ContainsAll, Property: "wordCount",
		Value: filter.Value{Type: filter.TypeInt, Array: true, Ints: []int64{1, 2}}}
	if !reflect.DeepEqual(q.Where, want) || q.Vector == nil {
		t.Errorf("where %+v vector %v; want where %+v with the vector", q.Where, q.Vector, want)
	}
}

func TestWhereValues(t *testing.T) {
	cases := []struct {
		where string
		want  filter.Value
	}{
		{`{path: ["n"], operator: Equal, valueNumber: 1}`, filter.Value{Type: filter.TypeNumber, Numbers: []float64{1}}},
		{`{path: ["n"], operator: ContainsAny, valueNumber: [1.5, 2]}`, filter.Value{Type: filter.TypeNumber, Array: true, Numbers: []float64{1.5, 2}}},
		{`{path: ["b"], operator: Equal, valueBoolean: false}`, filter.Value{Type: filter.TypeBoolean, Booleans: []bool{false}}},
		{`{path: ["b"], operator: ContainsAny, valueBoolean: [true]}`, filter.Value{Type: filter.TypeBoolean, Array: true, Booleans: []bool{true}}},
		{`{path: ["s"], operator: Equal, valueString: "x"}`, filter.Value{Type: filter.TypeText, Texts: []string{"x"}}},
		{`{path: ["n"], operator: Equal, valueInt: 3.0}`, filter.Value{Type: filter.TypeInt, Ints: []int64{3}}},
		{`{path: ["n"], operator: Equal, valueInt: 9007199254740993}`, filter.Value{Type: filter.TypeInt, Ints: []int64{9007199254740993}}},
	}
	for _, tc := range cases {
		f := newFake()
		exec(t, f, Request{Query: `{ Get { Article(where: ` + tc.where + `) { title } } }`})
		if q := lastQuery(t, f); q.Where == nil || !reflect.DeepEqual(q.Where.Value, tc.want) {
			t.Errorf("%s: where %+v, want value %+v", tc.where, q.Where, tc.want)
		}
	}
	f := newFake()
	exec(t, f, Request{Query: `{ Get { Article(where: {path: ["d"], operator: Equal, valueDate: "2024-01-02T03:04:05Z"}) { title } } }`})
	if q := lastQuery(t, f); q.Where == nil || len(q.Where.Value.Dates) != 1 || q.Where.Value.Dates[0].Unix() != 1704164645 {
		t.Errorf("valueDate: where %+v", q.Where)
	}
}

func TestWhereErrors(t *testing.T) {
	const extract = "could not extract filters: "
	tests := []struct{ where, msg string }{
		{`{path: ["x"], operator: Equal}`, extract + "invalid where filter: got operator 'Equal', but no value<Type> field set"},
		{`{path: ["x"], operator: Nope, valueInt: 1}`, extract + "invalid where filter: unrecognized operator: Nope"},
		{`{operator: And}`, extract + "invalid where filter: operator 'And', but no operands set - add at least one operand"},
		{`{path: ["x"], operator: Equal, valueInt: 1.5}`, extract + `invalid value for argument "where.valueInt": expected Int, found 1.5`},
		{`{path: ["x"], operator: Equal, valueBoolean: "yes"}`, extract + `invalid value for argument "where.valueBoolean": expected Boolean, found "yes"`},
		{`{path: ["x"], operator: Equal, valueText: 1}`, extract + `invalid value for argument "where.valueText": expected String, found 1`},
		{`{path: ["x"], operator: Equal, valueInt: 1, colour: 2}`, extract + `unknown field "colour" in argument "where"`},
		{`{operator: Or, operands: [{path: ["x"], operator: Equal, valueInt: "a"}]}`,
			extract + `invalid value for argument "where.operands[0].valueInt": expected Int, found "a"`},
		{`{path: ["g"], operator: WithinGeoRange, valueGeoRange: {distance: {max: 1}}}`,
			extract + "invalid where filter: operator 'WithinGeoRange' is not supported"},
		{`"title"`, extract + `invalid value for argument "where": expected an input object, found "title"`},
	}
	for _, tc := range tests {
		f := newFake()
		got := exec(t, f, Request{Query: `{ Get { Article(where: ` + tc.where + `) { title } } }`})
		if want := execError("Article", 9, tc.msg); got != want {
			t.Errorf("%s:\n got  %s\n want %s", tc.where, got, want)
		}
		if len(f.queries) != 0 {
			t.Errorf("%s: backend was queried", tc.where)
		}
	}
}

func TestAggregateWhere(t *testing.T) {
	f := newFake()
	f.counts["MT/t1"] = 2
	got := exec(t, f, Request{Query: `{ Aggregate { MT(tenant: "t1", where: {path: ["name"], operator: Equal, valueText: "x"}) { meta { count } } } }`})
	if want := `{"data":{"Aggregate":{"MT":[{"meta":{"count":2}}]}}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	want := &filter.Clause{Operator: filter.Equal, Property: "name", Value: filter.Value{Type: filter.TypeText, Texts: []string{"x"}}}
	if len(f.countWhere) != 1 || !reflect.DeepEqual(f.countWhere[0], want) {
		t.Errorf("Count got where %+v, want %+v", f.countWhere, want)
	}
	got = exec(t, f, Request{Query: `{ Aggregate { Article(where: {path: ["x"], operator: Equal}) { meta { count } } } }`})
	want2 := `{"data":{"Aggregate":{"Article":null}},"errors":[{"locations":[{"column":15,"line":1}],` +
		`"message":"could not extract filters: invalid where filter: got operator 'Equal', but no value<Type> field set","path":["Aggregate","Article"]}]}`
	if got != want2 {
		t.Errorf("got  %s\nwant %s", got, want2)
	}
}
