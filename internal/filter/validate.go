package filter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"strata/internal/schema"
)

// Indexed reports whether a property has an index where filters can use:
// its type is text, int, number, boolean, date or uuid (or an array of
// one), and indexFilterable (default true) — or, for text,
// indexSearchable, or indexRangeFilters — is on. The shards index exactly
// these properties.
func Indexed(p *schema.Property) bool {
	dt, err := schema.ParseDataType(p.DataType, nil)
	if err != nil || dt.Ref {
		return false
	}
	switch {
	case dt.IsText(), dt.Name == schema.TypeInt, dt.Name == schema.TypeNumber,
		dt.Name == schema.TypeBoolean, dt.Name == schema.TypeDate, dt.Name == schema.TypeUUID:
	default:
		return false
	}
	on := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	return on(p.IndexFilterable, true) || on(p.IndexRangeFilters, false) ||
		(dt.IsText() && on(p.IndexSearchable, true))
}

// Validate checks a clause against the class it filters: every property
// exists (or is _id, _creationTimeUnix or _lastUpdateTimeUnix) and is
// indexed, values fit the property's data type, operators fit the
// property, and combinators have operands. A nil clause is valid.
func Validate(c *Clause, class *schema.Class) error {
	if c == nil {
		return nil
	}
	return validate(c, class)
}

func validate(c *Clause, class *schema.Class) error {
	if c.Operator.Combinator() {
		if c.Property != "" || c.Value.Type != 0 {
			return fmt.Errorf("operator '%s' combines operands: it takes no path and no value", c.Operator)
		}
		switch {
		case len(c.Operands) == 0:
			return fmt.Errorf("operator '%s', but no operands set - add at least one operand", c.Operator)
		case c.Operator == Not && len(c.Operands) > 1:
			return fmt.Errorf("too many operands for operator 'Not': expected 1, given %d", len(c.Operands))
		}
		var errs []string
		for i, o := range c.Operands {
			if o == nil {
				errs = append(errs, fmt.Sprintf("child operand at position %d: must not be null", i))
				continue
			}
			if err := validate(o, class); err != nil {
				errs = append(errs, fmt.Sprintf("child operand at position %d: %s", i, err))
			}
		}
		if len(errs) > 0 {
			return errors.New(strings.Join(errs, ", "))
		}
		return nil
	}
	if _, ok := operators[string(c.Operator)]; !ok {
		return fmt.Errorf("unrecognized operator: %s", c.Operator)
	}
	if len(c.Operands) > 0 {
		return fmt.Errorf("operator '%s' compares a property with a value: it takes no operands", c.Operator)
	}
	if c.Property == "" {
		return fmt.Errorf("field 'path': must have at least one element")
	}
	n := c.Value.len()
	if c.Value.Type < TypeText || c.Value.Type > TypeDate || n == 0 {
		return fmt.Errorf("got operator '%s', but no value<Type> field set", c.Operator)
	}
	if n > 1 && !c.Value.Array {
		return fmt.Errorf("property %q: %d values given in a single-value field %s", c.Property, n, c.Value.name())
	}
	if c.Value.Array && !c.Operator.Contains() {
		return fmt.Errorf("operator '%s' takes a single value, but %s was given; "+
			"use ContainsAny, ContainsAll or ContainsNone with arrays of values", c.Operator, c.Value.name())
	}
	switch c.Property {
	case PropID:
		return validateID(c)
	case PropCreationTime, PropLastUpdateTime:
		return validateTimestamp(c)
	}

	p := class.Property(c.Property)
	if p == nil {
		return fmt.Errorf("no such prop with name '%s' found in class '%s' in the schema. "+
			"Check your schema files for which properties in this class are available", c.Property, class.Class)
	}
	dt, err := schema.ParseDataType(p.DataType, nil)
	if err != nil {
		return fmt.Errorf("property %q: %w", p.Name, err)
	}
	switch {
	case dt.Ref:
		return fmt.Errorf("property %q is a cross-reference: filtering on references is not supported", p.Name)
	case dt.Name == schema.TypeObject:
		return fmt.Errorf("property %q is of type %q: filtering on nested object properties is not supported", p.Name, dt)
	case dt.Name == schema.TypeGeo:
		return fmt.Errorf("property %q is of type geoCoordinates: geo-range filters (WithinGeoRange) are not supported", p.Name)
	case !Indexed(p):
		if dt.Name == schema.TypeBlob || dt.Name == schema.TypePhoneNumber {
			return fmt.Errorf("property %q is of type %q, which cannot be filtered on", p.Name, dt)
		}
		return fmt.Errorf("Filtering by property '%s' requires inverted index. "+
			"Is `indexFilterable` option of property '%s' enabled? Set it to `true` or leave empty", p.Name, p.Name)
	}

	if c.Operator == IsNull {
		if c.Value.Type != TypeBoolean || c.Value.Array {
			return fmt.Errorf("operator IsNull requires a booleanValue, got %v instead", c.Value.name())
		}
		return nil
	}
	if dt.Name == schema.TypeUUID {
		if c.Value.Type != TypeText {
			return fmt.Errorf("property %q is of type \"uuid\" or \"uuid[]\": specify uuid as string using \"valueText\"", p.Name)
		}
		if c.Operator == Like {
			return fmt.Errorf("operator %q cannot be used on uuid/uuid[] props", c.Operator)
		}
		return validUUIDs(p.Name, c.Value.Texts)
	}
	for _, f := range c.Value.Numbers {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("property %q: %v is not a number a filter can compare with", p.Name, f)
		}
	}
	want := valueTypeOf(dt.Name)
	if c.Value.Type != want {
		return fmt.Errorf("data type filter cannot use %q on type %q, use %q instead",
			c.Value.name(), dt.String(), typeName(want))
	}
	if c.Operator == Like && !dt.IsText() {
		return fmt.Errorf("operator Like needs a text property, but property %q is of type %q", p.Name, dt.String())
	}
	return nil
}

func validateID(c *Clause) error {
	if c.Value.Type != TypeText {
		return fmt.Errorf(`using ["_id"] to filter by uuid: must use "valueText" to specify the id`)
	}
	if c.Operator == Like {
		return fmt.Errorf(`operator "Like" cannot be used on ["_id"]`)
	}
	return validUUIDs(PropID, c.Value.Texts)
}

func validateTimestamp(c *Clause) error {
	if c.Value.Type != TypeText && c.Value.Type != TypeDate {
		return fmt.Errorf(`using ["%s"] to filter by timestamp: must use "valueText" or "valueDate"`, c.Property)
	}
	if c.Operator == Like {
		return fmt.Errorf(`operator "Like" cannot be used on ["%s"]`, c.Property)
	}
	for _, s := range c.Value.Texts {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf(`using ["%s"]: expected value to be a timestamp in milliseconds, got '%s'`, c.Property, s)
		}
	}
	return nil
}

func validUUIDs(prop string, vals []string) error {
	for _, s := range vals {
		if _, err := uuid.Parse(s); err != nil {
			return fmt.Errorf("property %q: %q is not a valid uuid", prop, s)
		}
	}
	return nil
}

// valueTypeOf is the value type that fits a primitive data type.
func valueTypeOf(dataType string) ValueType {
	switch dataType {
	case schema.TypeInt:
		return TypeInt
	case schema.TypeNumber:
		return TypeNumber
	case schema.TypeBoolean:
		return TypeBoolean
	case schema.TypeDate:
		return TypeDate
	}
	return TypeText
}

// typeName is the value key of a type, e.g. "valueInt".
func typeName(t ValueType) string {
	switch t {
	case TypeText:
		return "valueText"
	case TypeInt:
		return "valueInt"
	case TypeNumber:
		return "valueNumber"
	case TypeBoolean:
		return "valueBoolean"
	case TypeDate:
		return "valueDate"
	}
	return fmt.Sprintf("value<unknown type %d>", int(t))
}

// name is the value key the value came under, e.g. "valueIntArray".
func (v Value) name() string {
	if v.Array {
		return typeName(v.Type) + "Array"
	}
	return typeName(v.Type)
}

// len is the number of values of the value's type.
func (v Value) len() int {
	switch v.Type {
	case TypeText:
		return len(v.Texts)
	case TypeInt:
		return len(v.Ints)
	case TypeNumber:
		return len(v.Numbers)
	case TypeBoolean:
		return len(v.Booleans)
	case TypeDate:
		return len(v.Dates)
	}
	return 0
}
