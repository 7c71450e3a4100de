package shard

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/google/uuid"
)

// Object is a stored object. Properties are canonical JSON (an object, or
// empty when the object has none), so reads never re-encode them.
type Object struct {
	ID                 uuid.UUID
	Properties         json.RawMessage
	Vector             []float32            // the legacy unnamed vector
	Vectors            map[string][]float32 // named vectors
	CreationTimeUnix   int64                // ms
	LastUpdateTimeUnix int64                // ms
}

const recordVersion = 1

var errCorrupt = errors.New("corrupt object record")

// encode renders the on-disk record:
//
//	version byte | varint creation | varint update | uvarint nvec |
//	nvec × (uvarint len(name) | name | uvarint dims | dims × float32 LE) |
//	properties JSON (rest)
//
// The unnamed vector has the empty name.
func (o *Object) encode(buf []byte) []byte {
	buf = append(buf[:0], recordVersion)
	buf = binary.AppendVarint(buf, o.CreationTimeUnix)
	buf = binary.AppendVarint(buf, o.LastUpdateTimeUnix)
	n := len(o.Vectors)
	if o.Vector != nil {
		n++
	}
	buf = binary.AppendUvarint(buf, uint64(n))
	appendVec := func(name string, v []float32) {
		buf = binary.AppendUvarint(buf, uint64(len(name)))
		buf = append(buf, name...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		for _, f := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
		}
	}
	if o.Vector != nil {
		appendVec("", o.Vector)
	}
	names := make([]string, 0, len(o.Vectors))
	for name := range o.Vectors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		appendVec(name, o.Vectors[name])
	}
	return append(buf, o.Properties...)
}

// decodeObject parses a record; withVectors=false skips copying vectors.
func decodeObject(id uuid.UUID, rec []byte, withVectors bool) (*Object, error) {
	if len(rec) == 0 || rec[0] != recordVersion {
		return nil, fmt.Errorf("%w: unknown version", errCorrupt)
	}
	o := &Object{ID: id}
	p := rec[1:]
	var k int
	if o.CreationTimeUnix, k = binary.Varint(p); k <= 0 {
		return nil, errCorrupt
	}
	p = p[k:]
	if o.LastUpdateTimeUnix, k = binary.Varint(p); k <= 0 {
		return nil, errCorrupt
	}
	p = p[k:]
	n, k := binary.Uvarint(p)
	if k <= 0 {
		return nil, errCorrupt
	}
	p = p[k:]
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < l {
			return nil, errCorrupt
		}
		name := string(p[k : k+int(l)])
		p = p[k+int(l):]
		dims, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k)/4 < dims {
			return nil, errCorrupt
		}
		p = p[k:]
		if withVectors {
			v := make([]float32, dims)
			for j := range v {
				v[j] = math.Float32frombits(binary.LittleEndian.Uint32(p[j*4:]))
			}
			if name == "" {
				o.Vector = v
			} else {
				if o.Vectors == nil {
					o.Vectors = map[string][]float32{}
				}
				o.Vectors[name] = v
			}
		}
		p = p[dims*4:]
	}
	if len(p) > 0 {
		o.Properties = append(json.RawMessage(nil), p...)
	}
	return o, nil
}
