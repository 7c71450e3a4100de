package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
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
		cv, err := p.coerce(c.Class, v)
		if err != nil {
			return err
		}
		props[norm] = cv
	}
	return nil
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

// InferProperty builds the property auto-schema creates for a value it has
// not seen before. ok is false when no type can be inferred (nil, empty array).
func InferProperty(name string, v any, now time.Time) (p *Property, ok bool) {
	dt, nested, ok := inferType(v)
	if !ok {
		return nil, false
	}
	p = &Property{
		Name:             NormalizePropertyName(name),
		DataType:         []string{dt},
		Description:      "This property was generated by Weaviate's auto-schema feature on " + now.Format(time.ANSIC),
		NestedProperties: nested,
	}
	p.SetDefaults()
	return p, true
}

func inferType(v any) (string, []*Property, bool) {
	switch v := v.(type) {
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return TypeDate, nil, true
		}
		if _, err := uuid.Parse(v); err == nil && len(v) == 36 {
			return TypeUUID, nil, true
		}
		return TypeText, nil, true
	case json.Number:
		return TypeNumber, nil, true
	case bool:
		return TypeBoolean, nil, true
	case map[string]any:
		if _, lat := v["latitude"]; lat && len(v) == 2 {
			if _, lon := v["longitude"]; lon {
				return TypeGeo, nil, true
			}
		}
		if _, in := v["input"]; in && len(v) <= 2 {
			return TypePhoneNumber, nil, true
		}
		if b, ok := v["beacon"]; ok && len(v) == 1 {
			_ = b
			return "", nil, false
		}
		nested := inferNested(v)
		if len(nested) == 0 {
			return "", nil, false
		}
		return TypeObject, nested, true
	case []any:
		if len(v) == 0 {
			return "", nil, false
		}
		elem, nested, ok := inferType(v[0])
		if !ok || elem == TypeGeo || elem == TypePhoneNumber || strings.HasSuffix(elem, "[]") {
			return "", nil, false
		}
		if elem == TypeObject {
			// Merge the keys of every element into one nested definition.
			merged := map[string]any{}
			for _, e := range v {
				if m, isMap := e.(map[string]any); isMap {
					for k, x := range m {
						if _, seen := merged[k]; !seen && x != nil {
							merged[k] = x
						}
					}
				}
			}
			nested = inferNested(merged)
		}
		return elem + "[]", nested, true
	}
	return "", nil, false
}

func inferNested(m map[string]any) []*Property {
	var out []*Property
	for k, x := range m {
		dt, nested, ok := inferType(x)
		if !ok {
			continue
		}
		np := &Property{Name: k, DataType: []string{dt}, NestedProperties: nested}
		np.SetDefaults()
		out = append(out, np)
	}
	sortProperties(out)
	return out
}

func sortProperties(ps []*Property) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && strings.Compare(ps[j-1].Name, ps[j].Name) > 0; j-- {
			ps[j-1], ps[j] = ps[j], ps[j-1]
		}
	}
}
