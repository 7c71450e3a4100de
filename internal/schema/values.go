package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// UnknownPropertyError is returned when an object names a property its class
// does not have. With auto-schema, the caller adds the inferred property.
type UnknownPropertyError struct {
	Class, Property string
}

func (e *UnknownPropertyError) Error() string {
	return fmt.Sprintf("no such prop with name '%s' found in class '%s' in the schema. Check your schema files for which properties in this class are available", e.Property, e.Class)
}

// ValidateProperties checks object property values against the class and
// rewrites them into canonical form in place (names normalised, ints as
// integers, nulls dropped). Values must come from a JSON decoder with
// UseNumber, so numbers arrive as json.Number.
func (c *Class) ValidateProperties(props map[string]any) error {
	for name, v := range props {
		norm := NormalizePropertyName(name)
		if norm != name {
			delete(props, name)
			if _, clash := props[norm]; clash {
				return fmt.Errorf("property '%s' is given twice", norm)
			}
		}
		if v == nil {
			delete(props, norm)
			continue
		}
		p := c.Property(norm)
		if p == nil {
			return &UnknownPropertyError{Class: c.Class, Property: norm}
		}
		if deeperThan(v, MaxValueDepth) {
			return fmt.Errorf("invalid property '%s' on class '%s': value nests deeper than %d levels of objects and arrays", norm, c.Class, MaxValueDepth)
		}
		cv, err := p.coerce(c.Class, v)
		if err != nil {
			return err
		}
		props[norm] = cv
	}
	return nil
}

// MaxValueDepth bounds the levels of objects and arrays in one property
// value: an object[] level is two (the array and its objects).
const MaxValueDepth = 2 * MaxNestingDepth

// deeperThan reports whether v has more than max levels of objects and arrays.
func deeperThan(v any, max int) bool {
	switch v := v.(type) {
	case map[string]any:
		if max == 0 {
			return true
		}
		for _, e := range v {
			if deeperThan(e, max-1) {
				return true
			}
		}
	case []any:
		if max == 0 {
			return true
		}
		for _, e := range v {
			if deeperThan(e, max-1) {
				return true
			}
		}
	}
	return false
}

func (p *Property) coerce(class string, v any) (any, error) {
	dt, err := ParseDataType(p.DataType, nil)
	if err != nil {
		return nil, err
	}
	if dt.Ref {
		return coerceRefs(class, p.Name, v)
	}
	if dt.Array {
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("invalid %s property '%s' on class '%s': not an array, but %s", dt, p.Name, class, jsonKind(v))
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			ev, err := p.coerceOne(class, dt.Name, e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return p.coerceOne(class, dt.Name, v)
}

func (p *Property) coerceOne(class, typ string, v any) (any, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("invalid %s property '%s' on class '%s': %s", typ, p.Name, class, fmt.Sprintf(format, args...))
	}
	switch typ {
	case TypeText, typeString:
		if _, ok := v.(string); !ok {
			return nil, bad("not a string, but %s", jsonKind(v))
		}
		return v, nil
	case TypeInt:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("invalid integer property '%s' on class '%s': requires an integer, the given value is '%v'", p.Name, class, v)
		}
		if i, err := n.Int64(); err == nil {
			return json.Number(fmt.Sprint(i)), nil
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("invalid integer property '%s' on class '%s': the JSON number '%s' could not be converted to an int", p.Name, class, n)
		}
		return json.Number(fmt.Sprint(int64(f))), nil
	case TypeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("requires a float, the given value is '%v'", v)
		}
		if _, err := n.Float64(); err != nil {
			return nil, bad("the JSON number '%s' could not be converted to a float", n)
		}
		return n, nil
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return nil, bad("requires a bool, the given value is '%v'", v)
		}
		return v, nil
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, bad("requires a string with a RFC3339 formatted date, but the given value is '%v'", v)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, bad("requires a string with a RFC3339 formatted date, but the given value is '%v'", v)
		}
		return s, nil
	case TypeUUID:
		s, ok := v.(string)
		if !ok {
			return nil, bad("requires a string, the given value is '%v'", v)
		}
		if _, err := uuid.Parse(s); err != nil {
			return nil, bad("requires a valid UUID, the given value is '%v'", v)
		}
		return s, nil
	case TypeBlob:
		s, ok := v.(string)
		if !ok {
			return nil, bad("not a string, but %s", jsonKind(v))
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, bad("not a valid base64 string")
		}
		return s, nil
	case TypeGeo:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad("requires an object with latitude and longitude")
		}
		for _, k := range []string{"latitude", "longitude"} {
			n, ok := m[k].(json.Number)
			if !ok {
				return nil, bad("%s must be a number", k)
			}
			if _, err := n.Float64(); err != nil {
				return nil, bad("%s must be a number", k)
			}
		}
		return m, nil
	case TypePhoneNumber:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad("requires an object with an input field")
		}
		if _, ok := m["input"].(string); !ok {
			return nil, bad("field 'input' must be a string")
		}
		return m, nil
	case TypeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad("not an object, but %s", jsonKind(v))
		}
		for k, nv := range m {
			if nv == nil {
				delete(m, k)
				continue
			}
			var np *Property
			for _, cand := range p.NestedProperties {
				if cand.Name == k {
					np = cand
				}
			}
			if np == nil {
				return nil, bad("nested property '%s' is not defined", k)
			}
			cv, err := np.coerce(class, nv)
			if err != nil {
				return nil, err
			}
			m[k] = cv
		}
		return m, nil
	}
	return nil, bad("unsupported data type")
}

var beaconRE = regexp.MustCompile(`^weaviate://[^/]+/(?:([A-Za-z][_0-9A-Za-z]*)/)?([0-9a-fA-F-]{36})$`)

func coerceRefs(class, prop string, v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("invalid cref property '%s' on class '%s': expected a list of references", prop, class)
	}
	for _, e := range arr {
		m, ok := e.(map[string]any)
		b, _ := m["beacon"].(string)
		if !ok || !beaconRE.MatchString(b) {
			return nil, fmt.Errorf("invalid cref property '%s' on class '%s': each reference needs a beacon like weaviate://localhost/<Class>/<uuid>", prop, class)
		}
	}
	return arr, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number, float64:
		return "json.Number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
