package dataport

import (
	"bytes"
	"encoding/gob"
	"testing"

	"github.com/google/uuid"

	"strata/internal/db"
	"strata/internal/shard"
)

// BenchmarkFindMessages measures what one find costs in encoding: the
// request and an answer of 10 hits, each encoded and decoded once, as a
// call does.
func BenchmarkFindMessages(b *testing.B) {
	vec := make([]float32, 128)
	req := &request{Class: "Bench", Shard: "abcdefabcdef", Query: db.ShardQuery{Vector: vec, Limit: 10}}
	resp := &response{}
	for i := range 10 {
		resp.Hits = append(resp.Hits, db.ShardHit{Distance: float32(i), Object: &shard.Object{ID: uuid.New(),
			Properties: []byte(`{"title":"a title of some words","count":12345}`), CreationTimeUnix: 1, LastUpdateTimeUnix: 2}})
	}
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(req); err != nil {
			b.Fatal(err)
		}
		var r request
		if err := gob.NewDecoder(&buf).Decode(&r); err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := gob.NewEncoder(&buf).Encode(resp); err != nil {
			b.Fatal(err)
		}
		var out response
		if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
			b.Fatal(err)
		}
	}
}
