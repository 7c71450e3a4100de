package grpcapi

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"strata/internal/schema"
)

// everyTypeClass has a property of every data type Strata stores.
func everyTypeClass() *schema.Class {
	prop := func(name, dt string, nested ...*schema.Property) *schema.Property {
		return &schema.Property{Name: name, DataType: []string{dt}, NestedProperties: nested}
	}
	c := &schema.Class{Class: "Every", Properties: []*schema.Property{
		prop("text", "text"), prop("texts", "text[]"),
		prop("int", "int"), prop("ints", "int[]"),
		prop("number", "number"), prop("numbers", "number[]"), prop("wholeNumbers", "number[]"),
		prop("boolean", "boolean"), prop("booleans", "boolean[]"),
		prop("date", "date"), prop("dates", "date[]"),
		prop("uuid", "uuid"), prop("uuids", "uuid[]"),
		prop("geo", "geoCoordinates"), prop("phone", "phoneNumber"), prop("blob", "blob"),
		prop("object", "object", prop("name", "text"), prop("count", "int"),
			prop("inner", "object", prop("flag", "boolean"))),
		prop("objects", "object[]", prop("name", "text"), prop("score", "number")),
		prop("empty", "text[]"),
	}}
	c.Normalize()
	c.SetDefaults()
	return c
}

func float64Bytes(fs ...float64) []byte {
	b := make([]byte, 8*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
	}
	return b
}

func int64Bytes(ns ...int64) []byte {
	b := make([]byte, 8*len(ns))
	for i, n := range ns {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(n))
	}
	return b
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGRPCPropertiesRoundTrip: properties sent the way the TypeScript client
// sends them (scalars in the Struct, arrays typed, whole-number arrays as
// ints even for number[]) validate against the class, and come back from
// a search with the value kinds Weaviate answers with.
func TestGRPCPropertiesRoundTrip(t *testing.T) {
	class := everyTypeClass()
	in := &pb.BatchObject_Properties{
		NonRefProperties: mustStruct(t, map[string]any{
			"text": "hello", "int": 42, "number": 2.5, "boolean": true,
			"date": "2024-01-02T03:04:05+02:00", "uuid": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
			"geo":   map[string]any{"latitude": 52.5, "longitude": 4.25},
			"phone": map[string]any{"input": "020 1234567", "defaultCountry": "nl"},
			"blob":  "aGVsbG8=",
		}),
		TextArrayProperties: []*pb.TextArrayProperties{
			{PropName: "texts", Values: []string{"a", "b"}},
			{PropName: "dates", Values: []string{"2024-01-02T03:04:05Z", "2025-06-07T08:09:10.5Z"}},
			{PropName: "uuids", Values: []string{"00000000-0000-0000-0000-000000000001"}},
		},
		IntArrayProperties: []*pb.IntArrayProperties{
			{PropName: "ints", Values: []int64{1, -2, 1 << 40}},
			{PropName: "wholeNumbers", Values: []int64{3, 4}},
		},
		NumberArrayProperties:  []*pb.NumberArrayProperties{{PropName: "numbers", ValuesBytes: float64Bytes(0.5, -1.25)}},
		BooleanArrayProperties: []*pb.BooleanArrayProperties{{PropName: "booleans", Values: []bool{true, false}}},
		ObjectProperties: []*pb.ObjectProperties{{PropName: "object", Value: &pb.ObjectPropertiesValue{
			NonRefProperties: mustStruct(t, map[string]any{"name": "n", "count": 7}),
			ObjectProperties: []*pb.ObjectProperties{{PropName: "inner", Value: &pb.ObjectPropertiesValue{
				NonRefProperties: mustStruct(t, map[string]any{"flag": true}),
			}}},
		}}},
		ObjectArrayProperties: []*pb.ObjectArrayProperties{{PropName: "objects", Values: []*pb.ObjectPropertiesValue{
			{NonRefProperties: mustStruct(t, map[string]any{"name": "x", "score": 1.5})},
			{NonRefProperties: mustStruct(t, map[string]any{"name": "y"})},
		}}},
		EmptyListProps: []string{"empty"},
	}
	props, err := propertiesIn(class, in)
	if err != nil {
		t.Fatalf("propertiesIn: %v", err)
	}
	if err := class.ValidateProperties(props); err != nil {
		t.Fatalf("decoded properties do not validate: %v", err)
	}
	raw, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}

	all := make([]selection, len(class.Properties))
	for i, p := range class.Properties {
		all[i] = selection{prop: p}
	}
	got, err := propertiesOut(raw, all)
	if err != nil {
		t.Fatalf("propertiesOut: %v", err)
	}

	text := func(s string) *pb.Value { return &pb.Value{Kind: &pb.Value_TextValue{TextValue: s}} }
	list := func(l *pb.ListValue) *pb.Value { return &pb.Value{Kind: &pb.Value_ListValue{ListValue: l}} }
	want := &pb.Properties{Fields: map[string]*pb.Value{
		"text":         text("hello"),
		"texts":        list(&pb.ListValue{Kind: &pb.ListValue_TextValues{TextValues: &pb.TextValues{Values: []string{"a", "b"}}}}),
		"int":          {Kind: &pb.Value_IntValue{IntValue: 42}},
		"ints":         list(&pb.ListValue{Kind: &pb.ListValue_IntValues{IntValues: &pb.IntValues{Values: int64Bytes(1, -2, 1<<40)}}}),
		"number":       {Kind: &pb.Value_NumberValue{NumberValue: 2.5}},
		"numbers":      list(&pb.ListValue{Kind: &pb.ListValue_NumberValues{NumberValues: &pb.NumberValues{Values: float64Bytes(0.5, -1.25)}}}),
		"wholeNumbers": list(&pb.ListValue{Kind: &pb.ListValue_NumberValues{NumberValues: &pb.NumberValues{Values: float64Bytes(3, 4)}}}),
		"boolean":      {Kind: &pb.Value_BoolValue{BoolValue: true}},
		"booleans":     list(&pb.ListValue{Kind: &pb.ListValue_BoolValues{BoolValues: &pb.BoolValues{Values: []bool{true, false}}}}),
		"date":         {Kind: &pb.Value_DateValue{DateValue: "2024-01-02T03:04:05+02:00"}},
		"dates":        list(&pb.ListValue{Kind: &pb.ListValue_DateValues{DateValues: &pb.DateValues{Values: []string{"2024-01-02T03:04:05Z", "2025-06-07T08:09:10.5Z"}}}}),
		"uuid":         {Kind: &pb.Value_UuidValue{UuidValue: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}},
		"uuids":        list(&pb.ListValue{Kind: &pb.ListValue_UuidValues{UuidValues: &pb.UuidValues{Values: []string{"00000000-0000-0000-0000-000000000001"}}}}),
		"geo":          {Kind: &pb.Value_GeoValue{GeoValue: &pb.GeoCoordinate{Latitude: 52.5, Longitude: 4.25}}},
		"phone":        {Kind: &pb.Value_PhoneValue{PhoneValue: &pb.PhoneNumber{Input: "020 1234567", DefaultCountry: "nl"}}},
		"blob":         {Kind: &pb.Value_BlobValue{BlobValue: "aGVsbG8="}},
		"object": {Kind: &pb.Value_ObjectValue{ObjectValue: &pb.Properties{Fields: map[string]*pb.Value{
			"name":  text("n"),
			"count": {Kind: &pb.Value_IntValue{IntValue: 7}},
			"inner": {Kind: &pb.Value_ObjectValue{ObjectValue: &pb.Properties{Fields: map[string]*pb.Value{
				"flag": {Kind: &pb.Value_BoolValue{BoolValue: true}},
			}}}},
		}}}},
		"objects": list(&pb.ListValue{Kind: &pb.ListValue_ObjectValues{ObjectValues: &pb.ObjectValues{Values: []*pb.Properties{
			{Fields: map[string]*pb.Value{"name": text("x"), "score": {Kind: &pb.Value_NumberValue{NumberValue: 1.5}}}},
			{Fields: map[string]*pb.Value{"name": text("y")}},
		}}}}),
		"empty": list(&pb.ListValue{Kind: &pb.ListValue_TextValues{TextValues: &pb.TextValues{Values: []string{}}}}),
	}}
	if !proto.Equal(got, want) {
		t.Fatalf("round trip:\n got %s\nwant %s", protojson.Format(got), protojson.Format(want))
	}
}

// TestGRPCPropertiesOutSelection: named selections return only those fields,
// missing ones as null, and nested selections only the nested fields asked for.
func TestGRPCPropertiesOutSelection(t *testing.T) {
	class := everyTypeClass()
	raw := json.RawMessage(`{"text":"t","int":1,"object":{"name":"n","count":2,"inner":{"flag":false}}}`)
	sel, err := selectProperties(class, &pb.PropertiesRequest{
		NonRefProperties: []string{"Text", "number"},
		ObjectProperties: []*pb.ObjectPropertiesRequest{{PropName: "object", PrimitiveProperties: []string{"count"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := propertiesOut(raw, sel)
	if err != nil {
		t.Fatal(err)
	}
	want := &pb.Properties{Fields: map[string]*pb.Value{
		"text":   {Kind: &pb.Value_TextValue{TextValue: "t"}},
		"number": nullValue,
		"object": {Kind: &pb.Value_ObjectValue{ObjectValue: &pb.Properties{Fields: map[string]*pb.Value{
			"count": {Kind: &pb.Value_IntValue{IntValue: 2}},
		}}}},
	}}
	if !proto.Equal(got, want) {
		t.Fatalf("selection:\n got %s\nwant %s", protojson.Format(got), protojson.Format(want))
	}

	// Without a request: everything but blobs (and references).
	sel, err = selectProperties(class, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sel {
		if s.prop.Name == "blob" {
			t.Error("blob selected by default")
		}
	}
	if len(sel) != len(class.Properties)-1 {
		t.Errorf("default selection has %d properties, want %d", len(sel), len(class.Properties)-1)
	}

	if _, err := selectProperties(class, &pb.PropertiesRequest{NonRefProperties: []string{"nope"}}); err == nil ||
		!strings.Contains(err.Error(), "no such prop with name 'nope'") {
		t.Errorf("unknown property: err = %v", err)
	}
	if _, err := selectProperties(class, &pb.PropertiesRequest{ObjectProperties: []*pb.ObjectPropertiesRequest{{PropName: "text"}}}); err == nil {
		t.Error("object selection of a text property: no error")
	}
}

// TestGRPCValuesIn covers the decoding corner cases: numbers keep JSON's form,
// non-finite numbers and malformed byte arrays are refused, references
// become beacons.
func TestGRPCValuesIn(t *testing.T) {
	for f, want := range map[float64]string{3: "3", 2.5: "2.5", -0.125: "-0.125", 1e21: "1e+21", 1e-7: "1e-7"} {
		n, err := number(f)
		if err != nil || string(n) != want {
			t.Errorf("number(%v) = %q, %v; want %q", f, n, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := number(f); err == nil {
			t.Errorf("number(%v): no error", f)
		}
	}
	if _, err := float32s([]byte{1, 2, 3}); err == nil {
		t.Error("float32s of 3 bytes: no error")
	}
	if v, err := float32s(float32Bytes([]float32{1.5, -2})); err != nil || len(v) != 2 || v[0] != 1.5 || v[1] != -2 {
		t.Errorf("float32 round trip = %v, %v", v, err)
	}
	_, err := propertiesIn(nil, &pb.BatchObject_Properties{NumberArrayProperties: []*pb.NumberArrayProperties{{PropName: "n", ValuesBytes: []byte{1}}}})
	if err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Errorf("bad number bytes: err = %v, want one naming the property", err)
	}

	class := &schema.Class{Class: "A", Properties: []*schema.Property{{Name: "ref", DataType: []string{"B"}}}}
	props, err := propertiesIn(class, &pb.BatchObject_Properties{
		SingleTargetRefProps: []*pb.BatchObject_SingleTargetRefProps{{PropName: "ref", Uuids: []string{"00000000-0000-0000-0000-000000000001"}}},
		MultiTargetRefProps:  []*pb.BatchObject_MultiTargetRefProps{{PropName: "ref", TargetCollection: "c", Uuids: []string{"00000000-0000-0000-0000-000000000002"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(props)
	want := `{"ref":[{"beacon":"weaviate://localhost/B/00000000-0000-0000-0000-000000000001"},{"beacon":"weaviate://localhost/C/00000000-0000-0000-0000-000000000002"}]}`
	if string(b) != want {
		t.Errorf("references = %s, want %s", b, want)
	}
}

// TestGRPCValueOutMismatch: a stored value that does not have its property's
// type is still answered, by its JSON type.
func TestGRPCValueOutMismatch(t *testing.T) {
	p := &schema.Property{Name: "x", DataType: []string{"int"}}
	if got := valueOut(p, "text", nil); !proto.Equal(got, &pb.Value{Kind: &pb.Value_TextValue{TextValue: "text"}}) {
		t.Errorf("text in an int property = %v", got)
	}
	p = &schema.Property{Name: "x", DataType: []string{"text[]"}}
	got := valueOut(p, []any{json.Number("1.5")}, nil)
	want := &pb.Value{Kind: &pb.Value_ListValue{ListValue: &pb.ListValue{Kind: &pb.ListValue_NumberValues{NumberValues: &pb.NumberValues{Values: float64Bytes(1.5)}}}}}
	if !proto.Equal(got, want) {
		t.Errorf("numbers in a text[] property = %v", got)
	}
}
