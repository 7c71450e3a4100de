package schema

import (
	"fmt"
	"strings"
)

// DataType is a parsed property data type.
type DataType struct {
	Name  string // primitive name without "[]", or the target class of a reference
	Array bool
	Ref   bool
}

// Primitive type names.
const (
	TypeText        = "text"
	TypeInt         = "int"
	TypeNumber      = "number"
	TypeBoolean     = "boolean"
	TypeDate        = "date"
	TypeUUID        = "uuid"
	TypeObject      = "object"
	TypeGeo         = "geoCoordinates"
	TypePhoneNumber = "phoneNumber"
	TypeBlob        = "blob"
	typeString      = "string" // deprecated alias of text
)

var primitives = map[string]bool{
	TypeText: true, TypeInt: true, TypeNumber: true, TypeBoolean: true, TypeDate: true,
	TypeUUID: true, TypeObject: true, TypeGeo: true, TypePhoneNumber: true, TypeBlob: true,
	typeString: true,
}

var arrayable = map[string]bool{
	TypeText: true, TypeInt: true, TypeNumber: true, TypeBoolean: true, TypeDate: true,
	TypeUUID: true, TypeObject: true, typeString: true,
}

// ParseDataType parses a property's dataType list.
func ParseDataType(dt []string, knownClass func(string) bool) (DataType, error) {
	if len(dt) == 0 {
		return DataType{}, fmt.Errorf("empty data type")
	}
	first := dt[0]
	if len(dt) == 1 {
		name, array := strings.CutSuffix(first, "[]")
		if primitives[name] {
			if array && !arrayable[name] {
				return DataType{}, fmt.Errorf("unknown primitive data type '%s'", first)
			}
			return DataType{Name: name, Array: array}, nil
		}
		if first == "" || strings.ToLower(first[:1]) == first[:1] {
			return DataType{}, fmt.Errorf("unknown primitive data type '%s'", first)
		}
	}
	// Cross-references: every entry must name a class.
	for _, c := range dt {
		if !ValidClassName(c) {
			return DataType{}, fmt.Errorf("'%s' is not a valid class name", c)
		}
		if knownClass != nil && !knownClass(c) {
			return DataType{}, fmt.Errorf("reference property to nonexistent class %q", c)
		}
	}
	return DataType{Name: first, Ref: true}, nil
}

// IsText reports whether the type is text or text[].
func (d DataType) IsText() bool { return d.Name == TypeText || d.Name == typeString }

// IsObject reports whether the type is object or object[].
func (d DataType) IsObject() bool { return d.Name == TypeObject }

// IsRef reports whether the type is a cross-reference.
func (d DataType) IsRef() bool { return d.Ref }

// String renders the type as in a schema.
func (d DataType) String() string {
	if d.Array {
		return d.Name + "[]"
	}
	return d.Name
}
