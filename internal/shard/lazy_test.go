package shard

import (
	"testing"

	"github.com/google/uuid"
)

// Indexes are loaded on first use, not at open; metadata across reopen
// must agree with the store.
func TestLazyIndexAndPersistedMetadata(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.built {
		t.Fatal("index loaded at open")
	}
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	if _, err := s.Put([]*Object{{ID: a, Vector: []float32{1, 0}}, {ID: b, Vector: []float32{0, 1}}}); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search("", []float32{0, 1}, 1, nil)
	if err != nil || len(hits) != 1 || hits[0].ID != b {
		t.Fatalf("first search: %+v %v", hits, err)
	}
	if _, err := s.Put([]*Object{{ID: c, Vector: []float32{0.1, 1}}, {ID: b, Vector: []float32{1, 0.1}}}); err != nil {
		t.Fatal(err)
	}
	hits, _ = s.Search("", []float32{0, 1}, 1, nil)
	if len(hits) != 1 || hits[0].ID != c {
		t.Fatalf("search after update: %+v", hits)
	}
	if ok, err := s.Delete(c); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.built {
		t.Fatal("index loaded at reopen")
	}
	if s.Count() != 2 || s.Dimensions("") != 2 {
		t.Fatalf("after reopen: count %d dims %d", s.Count(), s.Dimensions(""))
	}
	if errs, _ := s.Put([]*Object{{ID: uuid.New(), Vector: []float32{1, 2, 3}}}); errs[0] == nil {
		t.Fatal("dimension check lost across reopen")
	}
	hits, _ = s.Search("", []float32{1, 0.1}, 1, nil)
	if len(hits) != 1 || hits[0].ID != b {
		t.Fatalf("search after reopen: %+v", hits)
	}
}
