package grpcapi

import (
	"reflect"
	"strings"
	"testing"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"strata/internal/apperr"
	"strata/internal/filter"
)

func onProp(name string) *pb.FilterTarget {
	return &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: name}}
}

// TestGRPCWhereIn: protocol filters become clauses of the shared model, with
// values typed by the property they test.
func TestGRPCWhereIn(t *testing.T) {
	class := everyTypeClass()
	date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   *pb.Filters
		want *filter.Clause
	}{
		{"fetch by id (what the TypeScript client sends)",
			&pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: onProp("_id"),
				TestValue: &pb.Filters_ValueText{ValueText: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}},
			&filter.Clause{Operator: filter.Equal, Property: filter.PropID,
				Value: filter.Value{Type: filter.TypeText, Texts: []string{"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}}}},
		{"deprecated path, property name normalised",
			&pb.Filters{Operator: pb.Filters_OPERATOR_LIKE, On: []string{"Text"}, TestValue: &pb.Filters_ValueText{ValueText: "he*"}},
			&filter.Clause{Operator: filter.Like, Property: "text", Value: filter.Value{Type: filter.TypeText, Texts: []string{"he*"}}}},
		{"int on a number property",
			&pb.Filters{Operator: pb.Filters_OPERATOR_GREATER_THAN, Target: onProp("number"), TestValue: &pb.Filters_ValueInt{ValueInt: 3}},
			&filter.Clause{Operator: filter.GreaterThan, Property: "number", Value: filter.Value{Type: filter.TypeNumber, Numbers: []float64{3}}}},
		{"whole number on an int property",
			&pb.Filters{Operator: pb.Filters_OPERATOR_LESS_THAN_EQUAL, Target: onProp("int"), TestValue: &pb.Filters_ValueNumber{ValueNumber: 7}},
			&filter.Clause{Operator: filter.LessThanEqual, Property: "int", Value: filter.Value{Type: filter.TypeInt, Ints: []int64{7}}}},
		{"ints on an int[] property",
			&pb.Filters{Operator: pb.Filters_OPERATOR_CONTAINS_ANY, Target: onProp("ints"),
				TestValue: &pb.Filters_ValueIntArray{ValueIntArray: &pb.IntArray{Values: []int64{1, 2}}}},
			&filter.Clause{Operator: filter.ContainsAny, Property: "ints", Value: filter.Value{Type: filter.TypeInt, Array: true, Ints: []int64{1, 2}}}},
		{"date as text",
			&pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: onProp("date"), TestValue: &pb.Filters_ValueText{ValueText: "2024-01-02T03:04:05Z"}},
			&filter.Clause{Operator: filter.Equal, Property: "date", Value: filter.Value{Type: filter.TypeDate, Dates: []time.Time{date}}}},
		{"creation time as milliseconds",
			&pb.Filters{Operator: pb.Filters_OPERATOR_GREATER_THAN, Target: onProp("_creationTimeUnix"),
				TestValue: &pb.Filters_ValueText{ValueText: "1704164645000"}},
			&filter.Clause{Operator: filter.GreaterThan, Property: filter.PropCreationTime,
				Value: filter.Value{Type: filter.TypeDate, Dates: []time.Time{time.UnixMilli(1704164645000)}}}},
		{"is null",
			&pb.Filters{Operator: pb.Filters_OPERATOR_IS_NULL, Target: onProp("int"), TestValue: &pb.Filters_ValueBoolean{ValueBoolean: true}},
			&filter.Clause{Operator: filter.IsNull, Property: "int", Value: filter.Value{Type: filter.TypeBoolean, Booleans: []bool{true}}}},
		{"nested combinators",
			&pb.Filters{Operator: pb.Filters_OPERATOR_AND, Filters: []*pb.Filters{
				{Operator: pb.Filters_OPERATOR_EQUAL, Target: onProp("boolean"), TestValue: &pb.Filters_ValueBoolean{ValueBoolean: true}},
				{Operator: pb.Filters_OPERATOR_NOT, Filters: []*pb.Filters{
					{Operator: pb.Filters_OPERATOR_EQUAL, Target: onProp("texts"), TestValue: &pb.Filters_ValueText{ValueText: "a"}},
				}},
			}},
			&filter.Clause{Operator: filter.And, Operands: []*filter.Clause{
				{Operator: filter.Equal, Property: "boolean", Value: filter.Value{Type: filter.TypeBoolean, Booleans: []bool{true}}},
				{Operator: filter.Not, Operands: []*filter.Clause{
					{Operator: filter.Equal, Property: "texts", Value: filter.Value{Type: filter.TypeText, Texts: []string{"a"}}},
				}},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := whereIn(class, tc.in)
			if err != nil {
				t.Fatalf("whereIn: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestGRPCWhereInErrors: client mistakes are InvalidArgument (apperr.Invalid),
// filters Strata does not support are Unimplemented; messages name the problem.
func TestGRPCWhereInErrors(t *testing.T) {
	class := everyTypeClass()
	cmp := func(op pb.Filters_Operator, target *pb.FilterTarget, v any) *pb.Filters {
		f := &pb.Filters{Operator: op, Target: target}
		switch v := v.(type) {
		case string:
			f.TestValue = &pb.Filters_ValueText{ValueText: v}
		case int64:
			f.TestValue = &pb.Filters_ValueInt{ValueInt: v}
		case float64:
			f.TestValue = &pb.Filters_ValueNumber{ValueNumber: v}
		}
		return f
	}
	invalid, unimplemented := "invalid", "unimplemented"
	for _, tc := range []struct {
		name, kind, msg string
		in              *pb.Filters
	}{
		{"unknown property", invalid, "no such prop with name 'nope'", cmp(pb.Filters_OPERATOR_EQUAL, onProp("nope"), "x")},
		{"no operator", invalid, "no operator", cmp(pb.Filters_OPERATOR_UNSPECIFIED, onProp("text"), "x")},
		{"no target", invalid, "no target property", cmp(pb.Filters_OPERATOR_EQUAL, nil, "x")},
		{"no value", invalid, "has no value", cmp(pb.Filters_OPERATOR_EQUAL, onProp("text"), nil)},
		{"fraction on an int", invalid, "2.5 is not an integer", cmp(pb.Filters_OPERATOR_EQUAL, onProp("int"), 2.5)},
		{"bad date", invalid, `"yesterday" is not an RFC 3339 date`, cmp(pb.Filters_OPERATOR_EQUAL, onProp("date"), "yesterday")},
		{"text on a boolean", invalid, "invalid filters", cmp(pb.Filters_OPERATOR_EQUAL, onProp("boolean"), "yes")},
		{"bad id", invalid, "not a valid uuid", cmp(pb.Filters_OPERATOR_EQUAL, onProp("_id"), "x")},
		{"empty And", invalid, "at least one operand", &pb.Filters{Operator: pb.Filters_OPERATOR_AND}},
		{"geo range", unimplemented, "WithinGeoRange", cmp(pb.Filters_OPERATOR_WITHIN_GEO_RANGE, onProp("geo"), nil)},
		{"reference path", unimplemented, "cross-references",
			cmp(pb.Filters_OPERATOR_EQUAL, &pb.FilterTarget{Target: &pb.FilterTarget_SingleTarget{SingleTarget: &pb.FilterReferenceSingleTarget{On: "ref"}}}, "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whereIn(class, tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			switch tc.kind {
			case invalid:
				if apperr.KindOf(err) != apperr.Invalid {
					t.Errorf("error %q is not an Invalid error", err)
				}
			case unimplemented:
				if status.Code(err) != codes.Unimplemented {
					t.Errorf("error %q: code %v, want Unimplemented", err, status.Code(err))
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}
