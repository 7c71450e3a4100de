package graphql

import "fmt"

// Limits bound the work and the response of one request; every field must
// be positive. Over a limit the request is answered with a GraphQL error
// naming the limit and its variable, before any search runs.
type Limits struct {
	// DefaultLimit is a Get's limit when it gives none (QUERY_DEFAULTS_LIMIT_GRAPHQL).
	DefaultLimit int
	// MaxResults bounds offset+limit of one Get (QUERY_MAXIMUM_RESULTS).
	MaxResults int
	// MaxResultsPerRequest bounds offset+limit summed over all Get fields
	// (STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST).
	MaxResultsPerRequest int
	// MaxQueries bounds the Get and Aggregate class fields, aliases
	// included (STRATA_GRAPHQL_MAX_QUERIES).
	MaxQueries int
	// MaxSelections bounds the fields, fragment spreads and inline
	// fragments visited while fragments are expanded
	// (STRATA_GRAPHQL_MAX_SELECTIONS).
	MaxSelections int
	// MaxDepth bounds the nesting of selected fields; Get is at depth 1
	// (STRATA_GRAPHQL_MAX_DEPTH).
	MaxDepth int
	// MaxTokens bounds the lexical tokens of the query text
	// (STRATA_GRAPHQL_MAX_TOKENS).
	MaxTokens int
}

// DefaultLimits are the limits of a server configured with defaults.
func DefaultLimits() Limits {
	return Limits{DefaultLimit: 100, MaxResults: 10000, MaxResultsPerRequest: 10000,
		MaxQueries: 100, MaxSelections: 10000, MaxDepth: 100, MaxTokens: 100000}
}

// The messages of the limit errors; docs/limits.md quotes them.

func tooManyTokens(max int) string {
	return fmt.Sprintf("query too large: more than %d tokens (STRATA_GRAPHQL_MAX_TOKENS)", max)
}

func tooManySelections(max int) string {
	return fmt.Sprintf("query too complex: more than %d selections once fragments are expanded (STRATA_GRAPHQL_MAX_SELECTIONS)", max)
}

func tooDeep(max int) string {
	return fmt.Sprintf("query too deep: fields nested more than %d levels (STRATA_GRAPHQL_MAX_DEPTH)", max)
}

func tooManyQueries(n, max int) string {
	return fmt.Sprintf("too many queries in one request: %d Get and Aggregate class fields, the limit is %d (STRATA_GRAPHQL_MAX_QUERIES)", n, max)
}

func tooManyResults(n, max int) string {
	return fmt.Sprintf("too many results in one request: the Get fields ask for %d objects (offset+limit summed), the limit is %d (STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST)", n, max)
}
