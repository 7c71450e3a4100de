package graphql

import (
	"testing"
)

// Errors found before execution: no data, path null.
func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"unknown class", Request{Query: `{ Get { Nope { title } } }`},
			`{"errors":[{"locations":[{"column":9,"line":1}],"message":"Cannot query field \"Nope\" on type \"GetObjectsObj\".","path":null}]}`},
		{"class names are exact", Request{Query: `{ Get { article { title } } }`},
			`{"errors":[{"locations":[{"column":9,"line":1}],"message":"Cannot query field \"article\" on type \"GetObjectsObj\".","path":null}]}`},
		{"unknown property", Request{Query: `{ Get { Article { title nope } } }`},
			`{"errors":[{"locations":[{"column":25,"line":1}],"message":"Cannot query field \"nope\" on type \"Article\".","path":null}]}`},
		{"unknown nested property", Request{Query: `{ Get { Article { meta { nope } } } }`},
			`{"errors":[{"locations":[{"column":26,"line":1}],"message":"Cannot query field \"nope\" on type \"Article_meta_object\".","path":null}]}`},
		{"unknown _additional field", Request{Query: `{ Get { Article { _additional { nope } } } }`},
			`{"errors":[{"locations":[{"column":33,"line":1}],"message":"Cannot query field \"nope\" on type \"ArticleAdditional\".","path":null}]}`},
		{"vectors on a class without named vectors", Request{Query: `{ Get { Article { _additional { vectors { a } } } } }`},
			`{"errors":[{"locations":[{"column":33,"line":1}],"message":"Cannot query field \"vectors\" on type \"ArticleAdditional\".","path":null}]}`},
		{"unknown named vector", Request{Query: `{ Get { Named { _additional { vectors { c } } } } }`},
			`{"errors":[{"locations":[{"column":41,"line":1}],"message":"Cannot query field \"c\" on type \"NamedAdditionalVectors\".","path":null}]}`},
		{"several errors at once", Request{Query: "{ Get {\n  Nope { x }\n  Article { y }\n} }"},
			`{"errors":[{"locations":[{"column":3,"line":2}],"message":"Cannot query field \"Nope\" on type \"GetObjectsObj\".","path":null},` +
				`{"locations":[{"column":13,"line":3}],"message":"Cannot query field \"y\" on type \"Article\".","path":null}]}`},
		{"unknown root field", Request{Query: `{ Explore { className } }`},
			`{"errors":[{"locations":[{"column":3,"line":1}],"message":"Cannot query field \"Explore\" on type \"WeaviateObj\".","path":null}]}`},
		{"syntax error", Request{Query: `{ Get { Article { title } }`},
			`{"errors":[{"locations":[{"column":28,"line":1}],"message":"Expected Name, found <EOF>","path":null}]}`},
		{"syntax error in arguments", Request{Query: `{ Get { Article(limit: ) { title } } }`},
			`{"errors":[{"locations":[{"column":24,"line":1}],"message":"Unexpected )","path":null}]}`},
		{"scalar with a selection", Request{Query: `{ Get { Article { title { x } } } }`},
			`{"errors":[{"locations":[{"column":19,"line":1}],"message":"Field \"title\" of type \"String\" must not have a sub selection.","path":null}]}`},
		{"object without a selection", Request{Query: `{ Get { Article { meta } } }`},
			`{"errors":[{"locations":[{"column":19,"line":1}],"message":"Field \"meta\" of type \"Article_meta_object\" must have a sub selection.","path":null}]}`},
		{"class without a selection", Request{Query: `{ Get { Article } }`},
			`{"errors":[{"locations":[{"column":9,"line":1}],"message":"Field \"Article\" of type \"[Article]\" must have a sub selection.","path":null}]}`},
		{"Get without a selection", Request{Query: `{ Get }`},
			`{"errors":[{"locations":[{"column":3,"line":1}],"message":"Field \"Get\" of type \"GetObjectsObj\" must have a sub selection.","path":null}]}`},
		{"unknown argument", Request{Query: `{ Get { Article(nope: 1) { title } } }`},
			`{"errors":[{"locations":[{"column":17,"line":1}],"message":"Unknown argument \"nope\" on field \"Article\" of type \"GetObjectsObj\".","path":null}]}`},
		{"argument on a property", Request{Query: `{ Get { Article { title(x: 1) } } }`},
			`{"errors":[{"locations":[{"column":25,"line":1}],"message":"Unknown argument \"x\" on field \"title\" of type \"Article\".","path":null}]}`},
		{"unknown fragment", Request{Query: `{ Get { Article { ...F } } }`},
			`{"errors":[{"locations":[{"column":22,"line":1}],"message":"Unknown fragment \"F\".","path":null}]}`},
		{"fragment on the wrong type", Request{Query: `{ Get { Article { ...F } } } fragment F on L2 { name }`},
			`{"errors":[{"locations":[{"column":22,"line":1}],"message":"Fragment \"F\" cannot be spread here as objects of type \"Article\" can never be of type \"L2\".","path":null}]}`},
		{"fragment cycle", Request{Query: `{ Get { Article { ...F } } } fragment F on Article { title ...F }`},
			`{"errors":[{"locations":[{"column":63,"line":1}],"message":"Cannot spread fragment \"F\" within itself.","path":null}]}`},
		{"unknown directive", Request{Query: `{ Get { Article { title @nope } } }`},
			`{"errors":[{"locations":[{"column":26,"line":1}],"message":"Unknown directive \"nope\".","path":null}]}`},
		{"several operations without a name", Request{Query: `query A { __typename } query B { __typename }`},
			`{"errors":[{"message":"Must provide operation name if query contains multiple operations.","path":null}]}`},
		{"unknown operation name", Request{Query: `query A { __typename }`, OperationName: "B"},
			`{"errors":[{"message":"Unknown operation named \"B\".","path":null}]}`},
		{"no operation", Request{Query: `fragment F on Article { title }`},
			`{"errors":[{"message":"Must provide an operation.","path":null}]}`},
		{"mutation", Request{Query: `mutation { x }`},
			`{"errors":[{"locations":[{"column":1,"line":1}],"message":"Schema is not configured for mutations","path":null}]}`},
		{"required variable missing", Request{Query: `query($v: [Float]!) { Get { Article(nearVector: {vector: $v}) { title } } }`},
			`{"errors":[{"locations":[{"column":7,"line":1}],"message":"Variable \"$v\" of required type \"[Float]!\" was not provided.","path":null}]}`},
		{"required variable null", Request{Query: `query($v: [Float]!) { Get { Article(nearVector: {vector: $v}) { title } } }`, Variables: map[string]any{"v": nil}},
			`{"errors":[{"locations":[{"column":7,"line":1}],"message":"Variable \"$v\" of non-null type \"[Float]!\" must not be null.","path":null}]}`},
		{"undefined variable", Request{Query: `{ Get { Article(limit: $l) { title } } }`},
			`{"errors":[{"locations":[{"column":24,"line":1},{"column":1,"line":1}],"message":"Variable \"$l\" is not defined.","path":null}]}`},
		{"undefined variable in a named operation", Request{Query: `query Q { Get { Article(limit: $l) { title } } }`},
			`{"errors":[{"locations":[{"column":32,"line":1},{"column":1,"line":1}],"message":"Variable \"$l\" is not defined by operation \"Q\".","path":null}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if got := exec(t, f, tc.req); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(f.queries)+len(f.countReq) != 0 {
				t.Errorf("backend was called: %+v %v", f.queries, f.countReq)
			}
		})
	}
}

func TestOperationName(t *testing.T) {
	f := newFake()
	f.counts["Article/"] = 2
	query := `query A { Get { Article { title } } } query B { Aggregate { Article { meta { count } } } }`
	got := exec(t, f, Request{Query: query, OperationName: "B"})
	if want := `{"data":{"Aggregate":{"Article":[{"meta":{"count":2}}]}}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(f.queries) != 0 {
		t.Errorf("operation A ran: %+v", f.queries)
	}
}
