package filter

import (
	"encoding/json"
	"fmt"
	"time"
)

// WhereFilter is Weaviate's JSON shape of a where filter (REST batch
// delete, and GraphQL `where` once its arguments are resolved). It marshals
// back the way Weaviate echoes it: "operands" and "path" are always present,
// value keys only when set.
type WhereFilter struct {
	Operands          []*WhereFilter  `json:"operands"`
	Operator          string          `json:"operator,omitempty"`
	Path              []string        `json:"path"`
	ValueBoolean      *bool           `json:"valueBoolean,omitempty"`
	ValueBooleanArray []bool          `json:"valueBooleanArray,omitempty"`
	ValueDate         *string         `json:"valueDate,omitempty"`
	ValueDateArray    []string        `json:"valueDateArray,omitempty"`
	ValueGeoRange     json.RawMessage `json:"valueGeoRange,omitempty"`
	ValueInt          *int64          `json:"valueInt,omitempty"`
	ValueIntArray     []int64         `json:"valueIntArray,omitempty"`
	ValueNumber       *float64        `json:"valueNumber,omitempty"`
	ValueNumberArray  []float64       `json:"valueNumberArray,omitempty"`
	ValueString       *string         `json:"valueString,omitempty"`
	ValueStringArray  []string        `json:"valueStringArray,omitempty"`
	ValueText         *string         `json:"valueText,omitempty"`
	ValueTextArray    []string        `json:"valueTextArray,omitempty"`
}

var operators = map[string]Operator{}

func init() {
	for _, op := range []Operator{And, Or, Not, Equal, NotEqual, GreaterThan, GreaterThanEqual,
		LessThan, LessThanEqual, Like, IsNull, ContainsAny, ContainsAll, ContainsNone} {
		operators[string(op)] = op
	}
}

// Combinator reports whether op combines operands (And, Or, Not) rather
// than comparing a property with a value.
func (op Operator) Combinator() bool { return op == And || op == Or || op == Not }

// Contains reports whether op is ContainsAny, ContainsAll or ContainsNone.
func (op Operator) Contains() bool {
	return op == ContainsAny || op == ContainsAll || op == ContainsNone
}

// Parse turns a WhereFilter into a Clause. It checks the filter's shape
// (operator, path, exactly one value key, operands) but not the class: see
// Validate. Errors read like Weaviate's ("invalid where filter: …").
func Parse(w *WhereFilter) (*Clause, error) {
	if w == nil {
		return nil, nil
	}
	c, err := parse(w)
	if err != nil {
		return nil, fmt.Errorf("invalid where filter: %w", err)
	}
	return c, nil
}

func parse(w *WhereFilter) (*Clause, error) {
	if w.Operator == "WithinGeoRange" {
		return nil, fmt.Errorf("operator 'WithinGeoRange' is not supported")
	}
	op, ok := operators[w.Operator]
	if !ok {
		return nil, fmt.Errorf("unrecognized operator: %s", w.Operator)
	}
	if op.Combinator() {
		if w.Path != nil {
			return nil, fmt.Errorf("operator '%s' not compatible with field 'path', remove 'path' "+
				"or switch to compare operator (eg. Equal, NotEqual, etc.)", op)
		}
		if w.hasValue() {
			return nil, fmt.Errorf("operator '%s' not compatible with field 'value<Type>', "+
				"remove value field or switch to compare operator (eg. Equal, NotEqual, etc.)", op)
		}
		if len(w.Operands) == 0 {
			return nil, fmt.Errorf("operator '%s', but no operands set - add at least one operand", op)
		}
		c := &Clause{Operator: op, Operands: make([]*Clause, len(w.Operands))}
		for i, o := range w.Operands {
			if o == nil {
				return nil, fmt.Errorf("operand %d: must not be null", i)
			}
			oc, err := parse(o)
			if err != nil {
				return nil, fmt.Errorf("operand %d: %w", i, err)
			}
			c.Operands[i] = oc
		}
		return c, nil
	}
	if len(w.Operands) > 0 {
		return nil, fmt.Errorf("operator '%s' not compatible with field 'operands', "+
			"use And, Or or Not to combine filters", op)
	}
	value, err := w.value()
	if err != nil {
		return nil, err
	}
	switch {
	case len(w.Path) == 0:
		return nil, fmt.Errorf("field 'path': must have at least one element")
	case len(w.Path) > 1:
		b, _ := json.Marshal(w.Path)
		return nil, fmt.Errorf("field 'path': %s: filtering on cross-references is not supported, "+
			"the path must name one property", b)
	case w.Path[0] == "":
		return nil, fmt.Errorf("field 'path': the property name must not be empty")
	}
	return &Clause{Operator: op, Property: PathProperty(w.Path[0]), Value: value}, nil
}

func (w *WhereFilter) hasValue() bool {
	return w.ValueBoolean != nil || w.ValueDate != nil || w.ValueString != nil ||
		w.ValueText != nil || w.ValueInt != nil || w.ValueNumber != nil || w.ValueGeoRange != nil ||
		len(w.ValueBooleanArray) > 0 || len(w.ValueDateArray) > 0 || len(w.ValueStringArray) > 0 ||
		len(w.ValueTextArray) > 0 || len(w.ValueIntArray) > 0 || len(w.ValueNumberArray) > 0
}

// value extracts the one value key of a comparison. Empty arrays count as
// absent, as in Weaviate.
func (w *WhereFilter) value() (Value, error) {
	var found []Value
	add := func(v Value) { found = append(found, v) }
	if w.ValueInt != nil {
		add(Value{Type: TypeInt, Ints: []int64{*w.ValueInt}})
	}
	if w.ValueNumber != nil {
		add(Value{Type: TypeNumber, Numbers: []float64{*w.ValueNumber}})
	}
	if w.ValueText != nil {
		add(Value{Type: TypeText, Texts: []string{*w.ValueText}})
	}
	if w.ValueString != nil {
		add(Value{Type: TypeText, Texts: []string{*w.ValueString}})
	}
	if w.ValueBoolean != nil {
		add(Value{Type: TypeBoolean, Booleans: []bool{*w.ValueBoolean}})
	}
	if w.ValueDate != nil {
		add(Value{Type: TypeDate, Texts: []string{*w.ValueDate}})
	}
	if len(w.ValueIntArray) > 0 {
		add(Value{Type: TypeInt, Array: true, Ints: w.ValueIntArray})
	}
	if len(w.ValueNumberArray) > 0 {
		add(Value{Type: TypeNumber, Array: true, Numbers: w.ValueNumberArray})
	}
	if len(w.ValueTextArray) > 0 {
		add(Value{Type: TypeText, Array: true, Texts: w.ValueTextArray})
	}
	if len(w.ValueStringArray) > 0 {
		add(Value{Type: TypeText, Array: true, Texts: w.ValueStringArray})
	}
	if len(w.ValueBooleanArray) > 0 {
		add(Value{Type: TypeBoolean, Array: true, Booleans: w.ValueBooleanArray})
	}
	if len(w.ValueDateArray) > 0 {
		add(Value{Type: TypeDate, Array: true, Texts: w.ValueDateArray})
	}
	if w.ValueGeoRange != nil {
		return Value{}, fmt.Errorf("valueGeoRange: geo-range filters (WithinGeoRange) are not supported")
	}
	switch len(found) {
	case 0:
		return Value{}, fmt.Errorf("got operator '%s', but no value<Type> field set", w.Operator)
	case 1:
	default:
		b, _ := json.Marshal(w)
		return Value{}, fmt.Errorf("found more than one values the clause '%s'", b)
	}
	v := found[0]
	if v.Type == TypeDate {
		dates, err := ParseDates(v.Texts)
		if err != nil {
			return Value{}, err
		}
		v.Texts, v.Dates = nil, dates
	}
	return v, nil
}

// ParseDates parses valueDate strings (RFC 3339, with optional fractional seconds).
func ParseDates(in []string) ([]time.Time, error) {
	out := make([]time.Time, len(in))
	for i, s := range in {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("valueDate: %q is not an RFC 3339 date (e.g. 2024-01-02T03:04:05Z)", s)
		}
		out[i] = t
	}
	return out, nil
}
