package graphql

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// doublingFragments returns a query of n fragments, each spreading the
// previous one twice: 2^n selections once expanded, from a few hundred bytes.
func doublingFragments(n int) string {
	var b strings.Builder
	b.WriteString("{ Get { Article { ...F0 } } } fragment F0 on Article { title }")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " fragment F%d on Article { ...F%d ...F%d }", i, i-1, i-1)
	}
	return strings.Replace(b.String(), "...F0", fmt.Sprintf("...F%d", n), 1)
}

// limitError is the body of a request refused by a limit.
func limitError(msg string, loc ...Location) string {
	b, _ := json.Marshal([]*Error{{Message: msg, Locations: loc}})
	return `{"errors":` + string(b) + `}`
}

// Every limit refuses the request with an error naming the limit and its
// variable, before any search runs.
func TestLimits(t *testing.T) {
	small := DefaultLimits()
	small.MaxSelections, small.MaxDepth, small.MaxQueries, small.MaxTokens = 1000, 4, 3, 1000
	tests := []struct {
		name, query, want string
	}{
		{"doubling fragments", doublingFragments(20), ""},
		{"fields nested deeper than MaxDepth", `{ Get { Article { meta { stats { views } } } } }`,
			limitError(tooDeep(4), Location{Line: 1, Column: 34})},
		{"more class fields than MaxQueries", `{ Get { a: Article { title } b: Article { title } } Aggregate { c: Article { meta { count } } d: L2 { meta { count } } } }`,
			limitError(tooManyQueries(4, 3))},
		{"more tokens than MaxTokens", `{ Get { Article(nearVector: {vector: [` + strings.Repeat("0.5, ", 1000) + `]}) { title } } }`,
			limitError(tooManyTokens(1000))},
		{"Gets asking for more results than MaxResultsPerRequest", `{ Get { a: Article(limit: 6000) { title } b: Article(offset: 3000, limit: 1001) { title } } }`,
			limitError(tooManyResults(10001, 10000))},
		{"distance searches without a limit reserve QUERY_MAXIMUM_RESULTS", `{ Get {
			a: Article(nearVector: {vector: [1, 0], distance: 0.5}) { title } b: Article(limit: 1) { title } } }`,
			limitError(tooManyResults(10001, 10000))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			got := execLimits(t, f, small, Request{Query: tc.query})
			if tc.want == "" { // the location depends on where the walk stopped
				var resp struct{ Errors []*Error }
				if err := json.Unmarshal([]byte(got), &resp); err != nil || len(resp.Errors) != 1 || resp.Errors[0].Message != tooManySelections(1000) {
					t.Fatalf("got %s, want the error %q", got, tooManySelections(1000))
				}
			} else if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(f.queries)+len(f.countReq) != 0 {
				t.Errorf("backend was called: %+v %v", f.queries, f.countReq)
			}
		})
	}
}

// Within the limits, the same shapes run.
func TestWithinLimits(t *testing.T) {
	small := DefaultLimits()
	small.MaxSelections, small.MaxDepth, small.MaxQueries = 1000, 5, 4
	for _, q := range []string{
		doublingFragments(8), // 256 titles and 510 spreads, merged into one field
		`{ Get { Article { meta { stats { views } } } } }`,
		`{ Get { a: Article { title } b: Article { title } } Aggregate { c: Article { meta { count } } d: L2 { meta { count } } } }`,
		`{ Get { a: Article(limit: 6000) { title } b: Article(offset: 3000, limit: 1000) { title } } }`,
	} {
		f := newFake()
		if got := execLimits(t, f, small, Request{Query: q}); strings.Contains(got, `"errors"`) {
			t.Errorf("%s: %s", q, got)
		}
	}
}

// A distance that overflowed to an infinity, or NaN, is still answered
// with valid JSON: ±the largest float32 (certainty: float64), NaN as null.
func TestNonFiniteDistance(t *testing.T) {
	f := newFake()
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	f.results["L2"] = []Result{{ID: id1, Distance: &inf}, {ID: id2, Distance: &nan}}
	f.results["Article"] = []Result{{ID: id1, Distance: &inf}}
	got := exec(t, f, Request{Query: `{ Get {
		L2(nearVector: {vector: [1e30, 1e30]}) { _additional { distance } }
		Article(nearVector: {vector: [1, 0]}) { _additional { distance certainty } } } }`})
	want := `{"data":{"Get":{"Article":[{"_additional":{"certainty":-1.7976931348623157e+308,"distance":3.4028235e+38}}],` +
		`"L2":[{"_additional":{"distance":3.4028235e+38}},{"_additional":{"distance":null}}]}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Query vectors and thresholds must be finite: 1e39 overflows float32.
func TestNonFiniteArguments(t *testing.T) {
	tests := []struct{ args, msg string }{
		{`nearVector: {vector: [0.5, 1e39]}`, `invalid value for argument "nearVector.vector": 1e39 at position 1 is not a finite 32-bit float`},
		{`nearVector: {vector: [-1e39]}`, `invalid value for argument "nearVector.vector": -1e39 at position 0 is not a finite 32-bit float`},
		{`nearVector: {vector: [1], distance: 1e400}`, `invalid value for argument "nearVector.distance": expected a finite Float, found 1e400`},
		{`nearVector: {vector: [1], certainty: -1e400}`, `invalid value for argument "nearVector.certainty": expected a finite Float, found -1e400`},
	}
	for _, tc := range tests {
		f := newFake()
		got := exec(t, f, Request{Query: `{ Get { Article(` + tc.args + `) { title } } }`})
		if want := execError("Article", 9, tc.msg); got != want {
			t.Errorf("%s:\n got  %s\n want %s", tc.args, got, want)
		}
		if len(f.queries) != 0 {
			t.Errorf("%s: searched %+v", tc.args, f.queries)
		}
	}
	// A variable decoded as float64 NaN (JSON cannot carry one, Go callers can).
	f := newFake()
	got := exec(t, f, Request{Query: `query($v: [Float]) { Get { Article(nearVector: {vector: $v}) { title } } }`,
		Variables: map[string]any{"v": []any{math.NaN()}}})
	if want := execError("Article", 28, `invalid value for argument "nearVector.vector": NaN at position 0 is not a finite 32-bit float`); got != want {
		t.Errorf("NaN variable:\n got  %s\n want %s", got, want)
	}
}
