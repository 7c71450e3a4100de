package graphql

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strings"
)

// bodyWriter writes a response body piece by piece. After the first write
// error it writes nothing more and keeps the error.
type bodyWriter struct {
	w       io.Writer
	scratch bytes.Buffer
	enc     *json.Encoder
	err     error
}

func newBodyWriter(w io.Writer) *bodyWriter {
	b := &bodyWriter{w: w}
	b.enc = json.NewEncoder(&b.scratch)
	b.enc.SetEscapeHTML(false)
	return b
}

func (b *bodyWriter) raw(s string) {
	if b.err == nil {
		_, b.err = io.WriteString(b.w, s)
	}
}

// encode writes v as JSON. An encoding error writes nothing and is returned.
func (b *bodyWriter) encode(v any) error {
	b.scratch.Reset()
	if err := b.enc.Encode(v); err != nil {
		return err
	}
	if b.err == nil {
		_, b.err = b.w.Write(bytes.TrimSuffix(b.scratch.Bytes(), []byte("\n")))
	}
	return nil
}

// value writes a value built by the executor, which always encodes.
func (b *bodyWriter) value(v any) {
	if err := b.encode(v); err != nil {
		b.raw("null")
	}
}

// key writes `"k":`.
func (b *bodyWriter) key(k string) {
	b.value(k)
	b.raw(":")
}

// errorsOnly writes a body of request errors: {"errors":[…]}.
func (b *bodyWriter) errorsOnly(errs []*Error) {
	b.raw(`{"errors":`)
	b.value(errs)
	b.raw("}")
}

// byKey returns fields sorted by response key.
func byKey(fields []*field) []*field {
	return slices.SortedFunc(slices.Values(fields), func(a, b *field) int { return strings.Compare(a.key, b.key) })
}

// finite makes a float JSON-encodable: an infinity becomes the largest
// finite value of its precision with its sign, NaN becomes null.
func finite[F float32 | float64](f F) any {
	switch {
	case f != f:
		return nil
	case math.IsInf(float64(f), 0):
		max := math.MaxFloat64
		if _, ok := any(f).(float32); ok {
			max = math.MaxFloat32
		}
		if f < 0 {
			max = -max
		}
		return F(max)
	}
	return f
}
