package graphql

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestNormalizeJSON(t *testing.T) {
	in := map[string]any{
		"f64": 0.1, "f32": float32(0.1), "int": 3, "i64": int64(-4), "num": json.Number("5"),
		"list": []any{1.5, "s", true, nil}, "typed": []int{1, 2}, "obj": map[string]any{"x": 2.0},
	}
	want := map[string]any{
		"f64": json.Number("0.1"), "f32": json.Number("0.1"), "int": json.Number("3"), "i64": json.Number("-4"),
		"num": json.Number("5"), "list": []any{json.Number("1.5"), "s", true, nil},
		"typed": []any{json.Number("1"), json.Number("2")}, "obj": map[string]any{"x": json.Number("2")},
	}
	if got := normalizeJSON(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

func TestIntArg(t *testing.T) {
	tests := []struct {
		in   any
		want int
		ok   bool
	}{
		{json.Number("12"), 12, true},
		{json.Number("-3"), -3, true},
		{json.Number("1e+06"), 1000000, true}, // a float64 variable, normalised
		{json.Number("2.5"), 0, false},
		{json.Number("3000000000"), 0, false}, // GraphQL Int is 32-bit
		{"12", 0, false},
		{true, 0, false},
	}
	for _, tc := range tests {
		got, err := intArg("limit", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("intArg(%#v) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestVectorArg(t *testing.T) {
	got, err := vectorArg("v", []any{json.Number("0.1"), json.Number("2"), json.Number("1e-3")})
	if err != nil || !reflect.DeepEqual(got, []float32{0.1, 2, 0.001}) {
		t.Errorf("got %v, %v", got, err)
	}
	// GraphQL coerces a single value into a list of one.
	if got, err := vectorArg("v", json.Number("7")); err != nil || !reflect.DeepEqual(got, []float32{7}) {
		t.Errorf("single value: got %v, %v", got, err)
	}
	if _, err := vectorArg("v", []any{json.Number("1"), nil}); err == nil {
		t.Error("null element accepted")
	}
	if _, err := vectorArg("v", []any{json.Number("1e99")}); err == nil {
		t.Error("out of float32 range accepted")
	}
}

func TestDirectivesWithVariables(t *testing.T) {
	f := newFake()
	got := exec(t, f, Request{
		Query:     `query($skip: Boolean!, $inc: Boolean = false) { Get { Article { title @skip(if: $skip) wordCount @include(if: $inc) tags } } }`,
		Variables: map[string]any{"skip": true},
	})
	want := `{"data":{"Get":{"Article":[{"tags":["a","b"]},{"tags":null}]}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestStringArguments(t *testing.T) {
	f := newFake()
	got := exec(t, f, Request{Query: `{ Get { MT(tenant: 5) { name } } }`})
	if want := execError("MT", 9, `invalid value for argument "tenant": expected String, found 5`); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = exec(t, f, Request{Query: `{ Get { Named(nearVector: {vector: [1], targetVectors: [1]}) { name } } }`})
	if want := execError("Named", 9, `invalid value for argument "nearVector.targetVectors": expected [String], found [1]`); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = exec(t, f, Request{Query: `{ Get { Article(nearVector: {vector: [1], distance: "far"}) { title } } }`})
	if want := execError("Article", 9, `invalid value for argument "nearVector.distance": expected Float, found "far"`); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(f.queries) != 0 {
		t.Errorf("backend was queried: %+v", f.queries)
	}
}
