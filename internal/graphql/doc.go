// Package graphql executes the subset of Weaviate's GraphQL API that Strata
// supports (POST /v1/graphql): Get (list, cursor and nearVector queries with
// where filters, properties and _additional fields) and Aggregate
// (meta { count }, with where filters).
//
// It owns query parsing (via gqlparser), operation and variable handling,
// validation of selections against the class definitions (there is no GraphQL
// schema: the classes drive validation), translation of arguments into a
// [Query], the cost [Limits] of a request, and writing the response body
// and its errors the way Weaviate shapes them, one result object at a time.
// It must not touch storage directly: everything it reads comes through
// the [Backend] interface, and it knows nothing of HTTP.
package graphql
