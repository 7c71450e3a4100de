package shard

import (
	"bytes"
	"slices"

	"github.com/google/uuid"
)

// Sets of object ids are sorted, duplicate-free slices.

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// normalizeIDs sorts ids and drops duplicates in place.
func normalizeIDs(ids []uuid.UUID) []uuid.UUID {
	slices.SortFunc(ids, compareIDs)
	return slices.Compact(ids)
}

// ContainsID reports whether the sorted set ids holds id.
func ContainsID(ids []uuid.UUID, id uuid.UUID) bool {
	_, ok := slices.BinarySearchFunc(ids, id, compareIDs)
	return ok
}

func intersectIDs(a, b []uuid.UUID) []uuid.UUID {
	out := make([]uuid.UUID, 0, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch c := compareIDs(a[i], b[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func unionIDs(a, b []uuid.UUID) []uuid.UUID {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]uuid.UUID, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareIDs(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// subtractIDs returns the ids of a that are not in b.
func subtractIDs(a, b []uuid.UUID) []uuid.UUID {
	if len(b) == 0 {
		return a
	}
	out := make([]uuid.UUID, 0, len(a))
	j := 0
	for _, id := range a {
		for j < len(b) && compareIDs(b[j], id) < 0 {
			j++
		}
		if j < len(b) && b[j] == id {
			continue
		}
		out = append(out, id)
	}
	return out
}
