package graphql

import (
	"reflect"
	"testing"
)

func TestAggregate(t *testing.T) {
	tests := []struct {
		name, query string
		wantCount   []string // Count calls
		want        string
	}{
		{"count", `{ Aggregate { Article { meta { count } } } }`, []string{"Article/"},
			`{"data":{"Aggregate":{"Article":[{"meta":{"count":3}}]}}}`},
		{"tenant", `{ Aggregate { MT(tenant: "t1") { meta { count } } } }`, []string{"MT/t1"},
			`{"data":{"Aggregate":{"MT":[{"meta":{"count":5}}]}}}`},
		{"aliases and __typename, one Count call", `{ Aggregate { __typename a: Article { __typename meta { __typename n: count count } } } }`,
			[]string{"Article/"},
			`{"data":{"Aggregate":{"__typename":"AggregateObjectsObj","a":[{"__typename":"AggregateArticle","meta":{"__typename":"AggregateArticleMetaObject","count":3,"n":3}}]}}}`},
		{"Get and Aggregate together", `{ Get { Article(limit: 1) { title } } Aggregate { Article { meta { count } } } }`, []string{"Article/"},
			`{"data":{"Aggregate":{"Article":[{"meta":{"count":3}}]},"Get":{"Article":[{"title":"hello world"}]}}}`},
		{"backend error", `{ Aggregate { MT { meta { count } } } }`, []string{"MT/"},
			`{"data":{"Aggregate":{"MT":null}},"errors":[{"locations":[{"column":15,"line":1}],"message":"has multi-tenancy enabled, but request was without tenant","path":["Aggregate","MT"]}]}`},
		{"property aggregation", `{ Aggregate { Article { wordCount { sum } } } }`, nil,
			`{"data":{"Aggregate":{"Article":null}},"errors":[{"locations":[{"column":15,"line":1}],"message":"aggregating property values is not supported yet","path":["Aggregate","Article"]}]}`},
		{"groupBy", `{ Aggregate { Article(groupBy: ["title"]) { groupedBy { value } meta { count } } } }`, nil,
			`{"data":{"Aggregate":{"Article":null}},"errors":[{"locations":[{"column":15,"line":1}],"message":"the groupBy argument is not supported yet","path":["Aggregate","Article"]}]}`},
		{"unknown class", `{ Aggregate { Nope { meta { count } } } }`, nil,
			`{"errors":[{"locations":[{"column":15,"line":1}],"message":"Cannot query field \"Nope\" on type \"AggregateObjectsObj\".","path":null}]}`},
		{"unknown meta field", `{ Aggregate { Article { meta { sum } } } }`, nil,
			`{"errors":[{"locations":[{"column":32,"line":1}],"message":"Cannot query field \"sum\" on type \"AggregateArticleMetaObject\".","path":null}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.counts["Article/"] = 3
			f.counts["MT/t1"] = 5
			f.errs["MT/"] = errTenant
			if got := exec(t, f, Request{Query: tc.query}); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !reflect.DeepEqual(f.countReq, tc.wantCount) {
				t.Errorf("Count calls %v, want %v", f.countReq, tc.wantCount)
			}
		})
	}
}
