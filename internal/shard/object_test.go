package shard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/uuid"
)

var edgeFloats = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1,
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, // denormals
	math.Float32frombits(0x007fffff), // largest denormal
	math.MaxFloat32, -math.MaxFloat32,
	float32(math.Inf(1)), float32(math.Inf(-1)),
	0.1, 1e-30, 3.4028233e38,
}

func sameBits(a, b []float32) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func sameObject(t *testing.T, got, want *Object, withVectors bool) {
	t.Helper()
	if got.ID != want.ID || got.CreationTimeUnix != want.CreationTimeUnix || got.LastUpdateTimeUnix != want.LastUpdateTimeUnix {
		t.Fatalf("header: got %v/%d/%d, want %v/%d/%d", got.ID, got.CreationTimeUnix, got.LastUpdateTimeUnix,
			want.ID, want.CreationTimeUnix, want.LastUpdateTimeUnix)
	}
	if !bytes.Equal(got.Properties, want.Properties) {
		t.Fatalf("properties: got %q, want %q", got.Properties, want.Properties)
	}
	if !withVectors {
		if got.Vector != nil || got.Vectors != nil {
			t.Fatalf("vectors returned without withVectors: %v %v", got.Vector, got.Vectors)
		}
		return
	}
	if !sameBits(got.Vector, want.Vector) {
		t.Fatalf("vector: got %v, want %v", got.Vector, want.Vector)
	}
	if len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("named vectors: got %v, want %v", got.Vectors, want.Vectors)
	}
	for name, v := range want.Vectors {
		if !sameBits(got.Vectors[name], v) {
			t.Fatalf("named vector %q: got %v, want %v", name, got.Vectors[name], v)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, o := range []*Object{
		{ID: id, Properties: json.RawMessage(`{"title":"hello","n":3}`), Vector: edgeFloats,
			CreationTimeUnix: 1795636747134, LastUpdateTimeUnix: 1795636747999},
		{ID: id, Vectors: map[string][]float32{"a": {1, 2}, "title_vec": edgeFloats, "z": {float32(math.Copysign(0, -1))}},
			CreationTimeUnix: -1, LastUpdateTimeUnix: math.MaxInt64},
		{ID: id, Vector: []float32{0.5}, Vectors: map[string][]float32{"b": {7, 8, 9}}, Properties: json.RawMessage(`{}`),
			CreationTimeUnix: math.MinInt64},
		{ID: id}, // no vectors, no properties
		{ID: id, Vector: []float32{}, Properties: json.RawMessage(`{"a":[1,2,{"b":null}]}`)}, // empty, non-nil vector
	} {
		rec := o.encode(nil)
		for _, withVectors := range []bool{true, false} {
			got, err := decodeObject(id, rec, withVectors)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			sameObject(t, got, o, withVectors)
		}
	}
}

func TestRecordEmptyPropertiesDecodeAsNil(t *testing.T) {
	o := &Object{ID: uuid.New(), Properties: json.RawMessage{}, Vector: []float32{1}}
	got, err := decodeObject(o.ID, o.encode(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties != nil {
		t.Fatalf("properties = %q, want nil", got.Properties)
	}
}

func TestRecordEncodingIsDeterministic(t *testing.T) {
	o := &Object{ID: uuid.New(), Vectors: map[string][]float32{}}
	for _, name := range []string{"e", "d", "c", "b", "a", "f", "g", "h"} {
		o.Vectors[name] = []float32{float32(len(name)), 2}
	}
	first := o.encode(nil)
	for i := 0; i < 20; i++ {
		if again := o.encode(nil); !bytes.Equal(first, again) {
			t.Fatal("encoding depends on map order")
		}
	}
}

func TestRecordEncodeReusesBuffer(t *testing.T) {
	a := &Object{ID: uuid.New(), Properties: json.RawMessage(`{"long":"aaaaaaaaaaaaaaaaaaaaaaaaa"}`), Vector: []float32{1, 2, 3}}
	b := &Object{ID: uuid.New(), Properties: json.RawMessage(`{"s":1}`)}
	buf := a.encode(nil)
	buf = b.encode(buf)
	got, err := decodeObject(b.ID, buf, true)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, b, true)
}

func TestRecordCorrupt(t *testing.T) {
	o := &Object{ID: uuid.New(), Vector: []float32{1, 2, 3}, Vectors: map[string][]float32{"named": {4, 5}},
		CreationTimeUnix: 1 << 40, LastUpdateTimeUnix: 1 << 41}
	rec := o.encode(nil) // no properties: every strict prefix is truncated
	for n := 0; n < len(rec); n++ {
		for _, withVectors := range []bool{true, false} {
			if _, err := decodeObject(o.ID, rec[:n], withVectors); !errors.Is(err, errCorrupt) {
				t.Fatalf("prefix %d/%d (withVectors=%v): err = %v, want errCorrupt", n, len(rec), withVectors, err)
			}
		}
	}
	bad := append([]byte{}, rec...)
	bad[0] = 2
	if _, err := decodeObject(o.ID, bad, true); !errors.Is(err, errCorrupt) {
		t.Fatalf("unknown version: err = %v", err)
	}

	// A huge dimension count must be rejected, not overflow into a bogus
	// bounds check (and a huge allocation or panic).
	for _, dims := range []uint64{1 << 62, 1<<62 + 1, math.MaxUint64 / 4, math.MaxUint64} {
		r := []byte{recordVersion}
		r = binary.AppendVarint(r, 0)
		r = binary.AppendVarint(r, 0)
		r = binary.AppendUvarint(r, 1) // one vector
		r = binary.AppendUvarint(r, 0) // unnamed
		r = binary.AppendUvarint(r, dims)
		r = append(r, 0, 0, 0, 0)
		if _, err := decodeObject(o.ID, r, true); !errors.Is(err, errCorrupt) {
			t.Fatalf("dims %d: err = %v, want errCorrupt", dims, err)
		}
	}
	// Name length beyond the record.
	r := []byte{recordVersion, 0, 0, 1}
	r = binary.AppendUvarint(r, math.MaxUint64)
	if _, err := decodeObject(o.ID, r, true); !errors.Is(err, errCorrupt) {
		t.Fatalf("huge name: err = %v", err)
	}
}
