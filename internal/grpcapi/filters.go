package grpcapi

import (
	"math"
	"strconv"
	"strings"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"

	"strata/internal/filter"
	"strata/internal/schema"
)

var combinators = map[pb.Filters_Operator]filter.Operator{
	pb.Filters_OPERATOR_AND: filter.And,
	pb.Filters_OPERATOR_OR:  filter.Or,
	pb.Filters_OPERATOR_NOT: filter.Not,
}

var comparisons = map[pb.Filters_Operator]filter.Operator{
	pb.Filters_OPERATOR_EQUAL:              filter.Equal,
	pb.Filters_OPERATOR_NOT_EQUAL:          filter.NotEqual,
	pb.Filters_OPERATOR_GREATER_THAN:       filter.GreaterThan,
	pb.Filters_OPERATOR_GREATER_THAN_EQUAL: filter.GreaterThanEqual,
	pb.Filters_OPERATOR_LESS_THAN:          filter.LessThan,
	pb.Filters_OPERATOR_LESS_THAN_EQUAL:    filter.LessThanEqual,
	pb.Filters_OPERATOR_LIKE:               filter.Like,
	pb.Filters_OPERATOR_IS_NULL:            filter.IsNull,
	pb.Filters_OPERATOR_CONTAINS_ANY:       filter.ContainsAny,
	pb.Filters_OPERATOR_CONTAINS_ALL:       filter.ContainsAll,
	pb.Filters_OPERATOR_CONTAINS_NONE:      filter.ContainsNone,
}

// whereIn converts a protocol filter tree into the shared filter model
// and validates it against the class. A comparison's value is typed by the
// property it tests, as Weaviate does: the protocol has no date value
// (dates come as text), and clients send 3 for 3.0 on number properties
// and 3.0 for 3 on int ones.
func whereIn(class *schema.Class, f *pb.Filters) (*filter.Clause, error) {
	if f == nil {
		return nil, nil
	}
	c, err := clauseIn(class, f)
	if err != nil {
		return nil, err
	}
	if err := filter.Validate(c, class); err != nil {
		return nil, invalidf("invalid filters: %s", err.Error())
	}
	return c, nil
}

func clauseIn(class *schema.Class, f *pb.Filters) (*filter.Clause, error) {
	if op, ok := combinators[f.Operator]; ok {
		if len(f.Filters) == 0 {
			return nil, invalidf("filter operator %s needs at least one operand in filters", op)
		}
		if op == filter.Not && len(f.Filters) != 1 {
			return nil, invalidf("filter operator Not takes exactly one operand, got %d", len(f.Filters))
		}
		c := &filter.Clause{Operator: op, Operands: make([]*filter.Clause, len(f.Filters))}
		for i, sub := range f.Filters {
			if sub == nil {
				return nil, invalidf("filter operand %d of %s is empty", i, op)
			}
			o, err := clauseIn(class, sub)
			if err != nil {
				return nil, err
			}
			c.Operands[i] = o
		}
		return c, nil
	}
	op, ok := comparisons[f.Operator]
	switch {
	case f.Operator == pb.Filters_OPERATOR_WITHIN_GEO_RANGE:
		return nil, unsupportedf("WithinGeoRange filters are not supported yet")
	case f.Operator == pb.Filters_OPERATOR_UNSPECIFIED:
		return nil, invalidf("filter has no operator")
	case !ok:
		return nil, invalidf("unknown filter operator %d", f.Operator)
	}
	prop, err := filterProperty(f)
	if err != nil {
		return nil, err
	}
	typ, err := propertyType(class, prop)
	if err != nil {
		return nil, err
	}
	if op == filter.IsNull {
		typ = schema.TypeBoolean
	}
	val, err := filterValue(f, prop, typ)
	if err != nil {
		return nil, err
	}
	return &filter.Clause{Operator: op, Property: prop, Value: val}, nil
}

// filterProperty is the property a comparison tests: target.property, or
// the one-element deprecated path "on". Paths through references are not
// supported.
func filterProperty(f *pb.Filters) (string, error) {
	var name string
	if t := f.GetTarget(); t != nil {
		switch x := t.GetTarget().(type) {
		case *pb.FilterTarget_Property:
			name = x.Property
		case *pb.FilterTarget_SingleTarget, *pb.FilterTarget_MultiTarget, *pb.FilterTarget_Count:
			return "", unsupportedf("filters on cross-references are not supported yet")
		}
	} else {
		switch on := f.On; len(on) { // deprecated field, still sent by old clients
		case 0:
		case 1:
			name = on[0]
		default:
			return "", unsupportedf("filters on cross-references are not supported yet (path %v)", on)
		}
	}
	if name == "" {
		return "", invalidf("filter has no target property")
	}
	name = filter.PathProperty(name)
	switch name {
	case filter.PropID, filter.PropCreationTime, filter.PropLastUpdateTime:
		return name, nil
	}
	return schema.NormalizePropertyName(name), nil
}

// propertyType is the base (non-array) data type of a filtered property.
func propertyType(class *schema.Class, prop string) (string, error) {
	switch prop {
	case filter.PropID:
		return schema.TypeUUID, nil
	case filter.PropCreationTime, filter.PropLastUpdateTime:
		return schema.TypeDate, nil
	}
	p := class.Property(prop)
	if p == nil {
		return "", invalidf("%s", (&schema.UnknownPropertyError{Class: class.Class, Property: prop}).Error())
	}
	dt, err := schema.ParseDataType(p.DataType, nil)
	if err != nil {
		return "", invalidf("property %q: %s", prop, err.Error())
	}
	if dt.Ref {
		return "", unsupportedf("filters on cross-reference property %q are not supported yet", prop)
	}
	if dt.Name == "string" {
		return schema.TypeText, nil
	}
	return dt.Name, nil
}

// filterValue reads a comparison's value and types it for the property.
func filterValue(f *pb.Filters, prop, typ string) (filter.Value, error) {
	var v filter.Value
	switch x := f.GetTestValue().(type) {
	case *pb.Filters_ValueText:
		v = filter.Value{Type: filter.TypeText, Texts: []string{x.ValueText}}
	case *pb.Filters_ValueInt:
		v = filter.Value{Type: filter.TypeInt, Ints: []int64{x.ValueInt}}
	case *pb.Filters_ValueNumber:
		v = filter.Value{Type: filter.TypeNumber, Numbers: []float64{x.ValueNumber}}
	case *pb.Filters_ValueBoolean:
		v = filter.Value{Type: filter.TypeBoolean, Booleans: []bool{x.ValueBoolean}}
	case *pb.Filters_ValueTextArray:
		v = filter.Value{Type: filter.TypeText, Array: true, Texts: x.ValueTextArray.GetValues()}
	case *pb.Filters_ValueIntArray:
		v = filter.Value{Type: filter.TypeInt, Array: true, Ints: x.ValueIntArray.GetValues()}
	case *pb.Filters_ValueNumberArray:
		v = filter.Value{Type: filter.TypeNumber, Array: true, Numbers: x.ValueNumberArray.GetValues()}
	case *pb.Filters_ValueBooleanArray:
		v = filter.Value{Type: filter.TypeBoolean, Array: true, Booleans: x.ValueBooleanArray.GetValues()}
	case *pb.Filters_ValueGeo:
		return v, unsupportedf("geo range values are not supported yet")
	case nil:
		return v, invalidf("filter on %q has no value", prop)
	default:
		return v, invalidf("filter on %q: unsupported value %T", prop, x)
	}
	switch typ {
	case schema.TypeNumber:
		return asNumbers(v, prop)
	case schema.TypeInt:
		return asInts(v, prop)
	case schema.TypeDate:
		return asDates(v, prop)
	}
	return v, nil
}

// asNumbers turns int and numeric text values into numbers.
func asNumbers(v filter.Value, prop string) (filter.Value, error) {
	switch v.Type {
	case filter.TypeInt:
		nums := make([]float64, len(v.Ints))
		for i, n := range v.Ints {
			nums[i] = float64(n)
		}
		return filter.Value{Type: filter.TypeNumber, Array: v.Array, Numbers: nums}, nil
	case filter.TypeText:
		nums := make([]float64, len(v.Texts))
		for i, s := range v.Texts {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return v, invalidf("filter on number property %q: %q is not a number", prop, s)
			}
			nums[i] = f
		}
		return filter.Value{Type: filter.TypeNumber, Array: v.Array, Numbers: nums}, nil
	}
	return v, nil
}

// asInts turns whole numbers and integer text values into ints.
func asInts(v filter.Value, prop string) (filter.Value, error) {
	var floats []float64
	switch v.Type {
	case filter.TypeNumber:
		floats = v.Numbers
	case filter.TypeText:
		floats = make([]float64, len(v.Texts))
		for i, s := range v.Texts {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return v, invalidf("filter on int property %q: %q is not an integer", prop, s)
			}
			floats[i] = f
		}
	default:
		return v, nil
	}
	ints := make([]int64, len(floats))
	for i, f := range floats {
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return v, invalidf("filter on int property %q: %v is not an integer", prop, f)
		}
		ints[i] = int64(f)
	}
	return filter.Value{Type: filter.TypeInt, Array: v.Array, Ints: ints}, nil
}

// asDates parses text values as RFC 3339 dates (the timestamps
// _creationTimeUnix and _lastUpdateTimeUnix also take milliseconds since
// the epoch, as text or int).
func asDates(v filter.Value, prop string) (filter.Value, error) {
	timestamp := prop == filter.PropCreationTime || prop == filter.PropLastUpdateTime
	var dates []time.Time
	switch {
	case v.Type == filter.TypeText:
		dates = make([]time.Time, len(v.Texts))
		for i, s := range v.Texts {
			d, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				ms, msErr := strconv.ParseInt(s, 10, 64)
				if !timestamp || msErr != nil {
					return v, invalidf("filter on date property %q: %q is not an RFC 3339 date", prop, s)
				}
				d = time.UnixMilli(ms)
			}
			dates[i] = d
		}
	case v.Type == filter.TypeInt && timestamp:
		dates = make([]time.Time, len(v.Ints))
		for i, ms := range v.Ints {
			dates[i] = time.UnixMilli(ms)
		}
	default:
		return v, nil
	}
	return filter.Value{Type: filter.TypeDate, Array: v.Array, Dates: dates}, nil
}
