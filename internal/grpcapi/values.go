package grpcapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"strata/internal/schema"
)

// This file converts property values between the protocol's forms (a
// google.protobuf.Struct plus typed arrays on the way in, Value and
// Properties on the way out) and the database's: a JSON object decoded
// with UseNumber, numbers as json.Number. Writes are validated by the
// database against the class; reads are encoded by the class's types.

// propertiesIn decodes a BatchObject's properties. class may be nil (a
// class auto-schema will create); it only names the targets of references.
func propertiesIn(class *schema.Class, p *pb.BatchObject_Properties) (map[string]any, error) {
	if p == nil {
		return nil, nil
	}
	props, err := objectIn(&pb.ObjectPropertiesValue{
		NonRefProperties:       p.NonRefProperties,
		NumberArrayProperties:  p.NumberArrayProperties,
		IntArrayProperties:     p.IntArrayProperties,
		TextArrayProperties:    p.TextArrayProperties,
		BooleanArrayProperties: p.BooleanArrayProperties,
		ObjectProperties:       p.ObjectProperties,
		ObjectArrayProperties:  p.ObjectArrayProperties,
		EmptyListProps:         p.EmptyListProps,
	})
	if err != nil {
		return nil, err
	}
	for _, r := range p.SingleTargetRefProps {
		target := ""
		if class != nil {
			if prop := class.Property(schema.NormalizePropertyName(r.PropName)); prop != nil && len(prop.DataType) == 1 {
				target = prop.DataType[0]
			}
		}
		props[r.PropName] = appendBeacons(props[r.PropName], target, r.Uuids)
	}
	for _, r := range p.MultiTargetRefProps {
		props[r.PropName] = appendBeacons(props[r.PropName], schema.NormalizeClassName(r.TargetCollection), r.Uuids)
	}
	return props, nil
}

// appendBeacons adds references to ids (or to ready-made beacons) of class target.
func appendBeacons(prev any, target string, ids []string) []any {
	out, _ := prev.([]any)
	for _, id := range ids {
		beacon := id
		if !strings.HasPrefix(id, "weaviate://") {
			beacon = "weaviate://localhost/" + id
			if target != "" {
				beacon = "weaviate://localhost/" + target + "/" + id
			}
		}
		out = append(out, map[string]any{"beacon": beacon})
	}
	return out
}

// objectIn decodes an object value: the Struct of scalar fields, then the
// typed arrays and nested objects, which a Struct cannot carry typed.
func objectIn(v *pb.ObjectPropertiesValue) (map[string]any, error) {
	out := map[string]any{}
	if v == nil {
		return out, nil
	}
	for k, f := range v.GetNonRefProperties().GetFields() {
		x, err := structValueIn(f)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		out[k] = x
	}
	for _, a := range v.BooleanArrayProperties {
		out[a.PropName] = anySlice(a.Values)
	}
	for _, a := range v.TextArrayProperties {
		out[a.PropName] = anySlice(a.Values)
	}
	for _, a := range v.IntArrayProperties {
		arr := make([]any, len(a.Values))
		for i, n := range a.Values {
			arr[i] = json.Number(strconv.FormatInt(n, 10))
		}
		out[a.PropName] = arr
	}
	for _, a := range v.NumberArrayProperties {
		values := a.Values // deprecated field, still sent by old clients
		if len(a.ValuesBytes) > 0 {
			var err error
			if values, err = float64s(a.ValuesBytes); err != nil {
				return nil, fmt.Errorf("property %q: %w", a.PropName, err)
			}
		}
		arr := make([]any, len(values))
		for i, f := range values {
			n, err := number(f)
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", a.PropName, err)
			}
			arr[i] = n
		}
		out[a.PropName] = arr
	}
	for _, o := range v.ObjectProperties {
		m, err := objectIn(o.Value)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", o.PropName, err)
		}
		out[o.PropName] = m
	}
	for _, o := range v.ObjectArrayProperties {
		arr := make([]any, len(o.Values))
		for i, e := range o.Values {
			m, err := objectIn(e)
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", o.PropName, err)
			}
			arr[i] = m
		}
		out[o.PropName] = arr
	}
	for _, name := range v.EmptyListProps {
		out[name] = []any{}
	}
	return out, nil
}

// structValueIn converts one google.protobuf.Value.
func structValueIn(v *structpb.Value) (any, error) {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return nil, nil
	case *structpb.Value_NumberValue:
		return number(k.NumberValue)
	case *structpb.Value_StringValue:
		return k.StringValue, nil
	case *structpb.Value_BoolValue:
		return k.BoolValue, nil
	case *structpb.Value_StructValue:
		out := make(map[string]any, len(k.StructValue.GetFields()))
		for name, f := range k.StructValue.GetFields() {
			x, err := structValueIn(f)
			if err != nil {
				return nil, err
			}
			out[name] = x
		}
		return out, nil
	case *structpb.Value_ListValue:
		out := make([]any, len(k.ListValue.GetValues()))
		for i, e := range k.ListValue.GetValues() {
			x, err := structValueIn(e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value %T", v.GetKind())
}

// number renders a float64 as JSON does; NaN and infinities are refused.
func number(f float64) (json.Number, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("%v is not a finite number", f)
	}
	return json.Number(b), nil
}

func anySlice[T any](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// float32s decodes a vector sent as float32 little-endian bytes.
func float32s(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("vector bytes: length %d is not a multiple of 4 (float32 little-endian)", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// float32Bytes encodes a vector as float32 little-endian bytes.
func float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

// float64s decodes numbers sent as float64 little-endian bytes.
func float64s(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("number bytes: length %d is not a multiple of 8 (float64 little-endian)", len(b))
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// selection is one property a search returns; nested lists the fields of
// an object property to return (nil: all of them).
type selection struct {
	prop   *schema.Property
	nested []selection
}

// propertiesOut encodes the selected properties of a stored object. Every
// selected property is present; those the object lacks are null.
func propertiesOut(raw json.RawMessage, sel []selection) (*pb.Properties, error) {
	stored := map[string]any{}
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&stored); err != nil {
			return nil, fmt.Errorf("decode stored properties: %w", err)
		}
	}
	return fieldsOut(stored, sel, true), nil
}

// fieldsOut encodes the selected fields of an object; missing ones are
// null when nulls is set (top level), left out otherwise (nested), as in
// Weaviate.
func fieldsOut(m map[string]any, sel []selection, nulls bool) *pb.Properties {
	out := &pb.Properties{Fields: make(map[string]*pb.Value, len(sel))}
	for _, s := range sel {
		v, ok := m[s.prop.Name]
		if !ok && !nulls {
			continue
		}
		out.Fields[s.prop.Name] = valueOut(s.prop, v, s.nested)
	}
	return out
}

// allNested selects every nested property of p, recursively.
func allNested(p *schema.Property) []selection {
	out := make([]selection, 0, len(p.NestedProperties))
	for _, np := range p.NestedProperties {
		out = append(out, selection{prop: np, nested: allNested(np)})
	}
	return out
}

var nullValue = &pb.Value{Kind: &pb.Value_NullValue{}}

// valueOut encodes one stored value by its property's data type. A value
// that does not have the declared type (which validation on write rules
// out) is encoded by its JSON type instead.
func valueOut(p *schema.Property, v any, nested []selection) *pb.Value {
	if v == nil {
		return nullValue
	}
	dt, err := schema.ParseDataType(p.DataType, nil)
	if err != nil || dt.Ref {
		return jsonValueOut(v)
	}
	if nested == nil && dt.IsObject() {
		nested = allNested(p)
	}
	if dt.Array {
		arr, ok := v.([]any)
		if !ok {
			return jsonValueOut(v)
		}
		if list := listOut(dt.Name, arr, nested); list != nil {
			return &pb.Value{Kind: &pb.Value_ListValue{ListValue: list}}
		}
		return jsonValueOut(v)
	}
	switch dt.Name {
	case schema.TypeText, "string":
		if s, ok := v.(string); ok {
			return &pb.Value{Kind: &pb.Value_TextValue{TextValue: s}}
		}
	case schema.TypeDate:
		if s, ok := v.(string); ok {
			return &pb.Value{Kind: &pb.Value_DateValue{DateValue: s}}
		}
	case schema.TypeUUID:
		if s, ok := v.(string); ok {
			return &pb.Value{Kind: &pb.Value_UuidValue{UuidValue: s}}
		}
	case schema.TypeBlob:
		if s, ok := v.(string); ok {
			return &pb.Value{Kind: &pb.Value_BlobValue{BlobValue: s}}
		}
	case schema.TypeInt:
		if n, ok := toInt(v); ok {
			return &pb.Value{Kind: &pb.Value_IntValue{IntValue: n}}
		}
	case schema.TypeNumber:
		if f, ok := toFloat(v); ok {
			return &pb.Value{Kind: &pb.Value_NumberValue{NumberValue: f}}
		}
	case schema.TypeBoolean:
		if b, ok := v.(bool); ok {
			return &pb.Value{Kind: &pb.Value_BoolValue{BoolValue: b}}
		}
	case schema.TypeGeo:
		if m, ok := v.(map[string]any); ok {
			lat, _ := toFloat(m["latitude"])
			lon, _ := toFloat(m["longitude"])
			return &pb.Value{Kind: &pb.Value_GeoValue{GeoValue: &pb.GeoCoordinate{Latitude: float32(lat), Longitude: float32(lon)}}}
		}
	case schema.TypePhoneNumber:
		if m, ok := v.(map[string]any); ok {
			return &pb.Value{Kind: &pb.Value_PhoneValue{PhoneValue: phoneOut(m)}}
		}
	case schema.TypeObject:
		if m, ok := v.(map[string]any); ok {
			return &pb.Value{Kind: &pb.Value_ObjectValue{ObjectValue: fieldsOut(m, nested, false)}}
		}
	}
	return jsonValueOut(v)
}

// listOut encodes an array of a primitive type, or nil if an element does
// not have that type.
func listOut(typ string, arr []any, nested []selection) *pb.ListValue {
	switch typ {
	case schema.TypeText, "string", schema.TypeDate, schema.TypeUUID:
		values := make([]string, len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			values[i] = s
		}
		switch typ {
		case schema.TypeDate:
			return &pb.ListValue{Kind: &pb.ListValue_DateValues{DateValues: &pb.DateValues{Values: values}}}
		case schema.TypeUUID:
			return &pb.ListValue{Kind: &pb.ListValue_UuidValues{UuidValues: &pb.UuidValues{Values: values}}}
		}
		return &pb.ListValue{Kind: &pb.ListValue_TextValues{TextValues: &pb.TextValues{Values: values}}}
	case schema.TypeInt:
		b := make([]byte, 8*len(arr))
		for i, e := range arr {
			n, ok := toInt(e)
			if !ok {
				return nil
			}
			binary.LittleEndian.PutUint64(b[8*i:], uint64(n))
		}
		return &pb.ListValue{Kind: &pb.ListValue_IntValues{IntValues: &pb.IntValues{Values: b}}}
	case schema.TypeNumber:
		b := make([]byte, 8*len(arr))
		for i, e := range arr {
			f, ok := toFloat(e)
			if !ok {
				return nil
			}
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
		return &pb.ListValue{Kind: &pb.ListValue_NumberValues{NumberValues: &pb.NumberValues{Values: b}}}
	case schema.TypeBoolean:
		values := make([]bool, len(arr))
		for i, e := range arr {
			b, ok := e.(bool)
			if !ok {
				return nil
			}
			values[i] = b
		}
		return &pb.ListValue{Kind: &pb.ListValue_BoolValues{BoolValues: &pb.BoolValues{Values: values}}}
	case schema.TypeObject:
		values := make([]*pb.Properties, len(arr))
		for i, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return nil
			}
			values[i] = fieldsOut(m, nested, false)
		}
		return &pb.ListValue{Kind: &pb.ListValue_ObjectValues{ObjectValues: &pb.ObjectValues{Values: values}}}
	}
	return nil
}

// jsonValueOut encodes a value by its JSON type alone.
func jsonValueOut(v any) *pb.Value {
	switch x := v.(type) {
	case string:
		return &pb.Value{Kind: &pb.Value_TextValue{TextValue: x}}
	case bool:
		return &pb.Value{Kind: &pb.Value_BoolValue{BoolValue: x}}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return &pb.Value{Kind: &pb.Value_IntValue{IntValue: n}}
		}
		f, _ := x.Float64()
		return &pb.Value{Kind: &pb.Value_NumberValue{NumberValue: f}}
	case map[string]any:
		out := &pb.Properties{Fields: make(map[string]*pb.Value, len(x))}
		for k, e := range x {
			out.Fields[k] = jsonValueOut(e)
		}
		return &pb.Value{Kind: &pb.Value_ObjectValue{ObjectValue: out}}
	case []any:
		for _, typ := range []string{schema.TypeText, schema.TypeBoolean, schema.TypeNumber, schema.TypeObject} {
			if list := listOut(typ, x, nil); list != nil {
				return &pb.Value{Kind: &pb.Value_ListValue{ListValue: list}}
			}
		}
	}
	return nullValue
}

func toInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

func toFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// phoneOut encodes a stored phone number (its input form, plus whatever
// parsed fields it carries).
func phoneOut(m map[string]any) *pb.PhoneNumber {
	str := func(k string) string { s, _ := m[k].(string); return s }
	uint := func(k string) uint64 { n, _ := toInt(m[k]); return uint64(max(n, 0)) }
	valid, _ := m["valid"].(bool)
	return &pb.PhoneNumber{
		Input:                  str("input"),
		DefaultCountry:         str("defaultCountry"),
		CountryCode:            uint("countryCode"),
		InternationalFormatted: str("internationalFormatted"),
		National:               uint("national"),
		NationalFormatted:      str("nationalFormatted"),
		Valid:                  valid,
	}
}
