package graphql

import (
	"slices"

	"strata/internal/schema"
)

// objectType is a GraphQL object type as far as validation needs it: a name
// (for messages and __typename) and a way to look up its fields.
type objectType struct {
	name  string
	field func(name string) *fieldDef // nil = no such field
}

// fieldDef describes one field of an objectType.
type fieldDef struct {
	typeName string          // the field's type as printed in messages, e.g. "[Float]"
	obj      *objectType     // the (element) object type; nil for scalar leaves
	args     map[string]bool // accepted argument names
	class    *schema.Class   // set on the class fields of Get and Aggregate

	// unsupported, when set, marks an object-typed field whose selection is
	// not checked; executing a query that selects it fails with this message.
	unsupported string
}

var typenameDef = &fieldDef{typeName: "String!"}

// Arguments Weaviate accepts on Get / Aggregate class fields. Those not
// implemented yet are accepted by validation and rejected at execution.
var (
	getArgs = argSet("nearVector", "limit", "offset", "after", "tenant", "where",
		"consistencyLevel", "nearObject", "bm25", "hybrid", "sort", "group", "groupBy", "autocut")
	aggregateArgs = argSet("tenant", "where", "groupBy", "limit", "objectLimit",
		"nearVector", "nearObject", "hybrid")
)

func argSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// rootType is the query root, named as in Weaviate.
func (e *Executor) rootType() *objectType {
	get := &objectType{name: "GetObjectsObj", field: func(name string) *fieldDef {
		class := e.backend.Class(name)
		if class == nil {
			return nil
		}
		return &fieldDef{typeName: "[" + class.Class + "]", obj: getClassType(class), args: getArgs, class: class}
	}}
	aggregate := &objectType{name: "AggregateObjectsObj", field: func(name string) *fieldDef {
		class := e.backend.Class(name)
		if class == nil {
			return nil
		}
		return &fieldDef{typeName: "[Aggregate" + class.Class + "]", obj: aggregateClassType(class), args: aggregateArgs, class: class}
	}}
	return &objectType{name: "WeaviateObj", field: func(name string) *fieldDef {
		switch name {
		case "Get":
			return &fieldDef{typeName: get.name, obj: get}
		case "Aggregate":
			return &fieldDef{typeName: aggregate.name, obj: aggregate}
		}
		return nil
	}}
}

// getClassType is the type of one object in Get.<Class>: its properties and _additional.
func getClassType(class *schema.Class) *objectType {
	additional := additionalType(class)
	return &objectType{name: class.Class, field: func(name string) *fieldDef {
		if name == "_additional" {
			return &fieldDef{typeName: additional.name, obj: additional}
		}
		if p := class.Property(name); p != nil {
			return propertyDef(class.Class, "", p)
		}
		return nil
	}}
}

func additionalType(class *schema.Class) *objectType {
	fields := map[string]*fieldDef{
		"id":                 {typeName: "String"},
		"distance":           {typeName: "Float"},
		"certainty":          {typeName: "Float"},
		"vector":             {typeName: "[Float]"},
		"creationTimeUnix":   {typeName: "String"},
		"lastUpdateTimeUnix": {typeName: "String"},
		"score":              {typeName: "String"},
		"explainScore":       {typeName: "String"},
	}
	if len(class.VectorConfig) > 0 {
		vectors := map[string]*fieldDef{}
		for name := range class.VectorConfig {
			vectors[name] = &fieldDef{typeName: "[Float]"}
		}
		obj := staticType(class.Class+"AdditionalVectors", vectors)
		fields["vectors"] = &fieldDef{typeName: obj.name, obj: obj}
	}
	return staticType(class.Class+"Additional", fields)
}

func staticType(name string, fields map[string]*fieldDef) *objectType {
	return &objectType{name: name, field: func(n string) *fieldDef { return fields[n] }}
}

// propertyDef describes a property; prefix is the path of enclosing object
// properties (joined by "_"), empty at the top level.
func propertyDef(className, prefix string, p *schema.Property) *fieldDef {
	dt, err := schema.ParseDataType(p.DataType, nil)
	if err != nil {
		return &fieldDef{typeName: "String"}
	}
	if dt.IsRef() {
		return &fieldDef{typeName: "[" + className + upperFirst(p.Name) + "Obj]",
			unsupported: "cross-reference properties are not supported yet"}
	}
	var def *fieldDef
	switch dt.Name {
	case schema.TypeObject:
		path := p.Name
		if prefix != "" {
			path = prefix + "_" + p.Name
		}
		nested := slices.Clone(p.NestedProperties)
		obj := &objectType{name: className + "_" + path + "_object", field: func(name string) *fieldDef {
			for _, n := range nested {
				if n.Name == name {
					return propertyDef(className, path, n)
				}
			}
			return nil
		}}
		def = &fieldDef{typeName: obj.name, obj: obj}
	case schema.TypeGeo:
		obj := staticType(className+p.Name+"GeoCoordinatesObj", map[string]*fieldDef{
			"latitude": {typeName: "Float"}, "longitude": {typeName: "Float"},
		})
		def = &fieldDef{typeName: obj.name, obj: obj}
	case schema.TypePhoneNumber:
		obj := staticType(className+p.Name+"PhoneNumberObj", map[string]*fieldDef{
			"input": {typeName: "String"}, "internationalFormatted": {typeName: "String"},
			"nationalFormatted": {typeName: "String"}, "national": {typeName: "Int"},
			"valid": {typeName: "Boolean"}, "countryCode": {typeName: "Int"},
			"defaultCountry": {typeName: "String"},
		})
		def = &fieldDef{typeName: obj.name, obj: obj}
	default:
		def = &fieldDef{typeName: scalarName(dt.Name)}
	}
	if dt.Array {
		def.typeName = "[" + def.typeName + "]"
	}
	return def
}

func scalarName(dataType string) string {
	switch dataType {
	case schema.TypeInt:
		return "Int"
	case schema.TypeNumber:
		return "Float"
	case schema.TypeBoolean:
		return "Boolean"
	default: // text, date, uuid, blob
		return "String"
	}
}

// aggregateClassType is the type of Aggregate.<Class>: meta { count } is
// implemented; groupedBy and per-property aggregations are recognised but
// not supported yet.
func aggregateClassType(class *schema.Class) *objectType {
	prefix := "Aggregate" + class.Class
	meta := staticType(prefix+"MetaObject", map[string]*fieldDef{"count": {typeName: "Int"}})
	return &objectType{name: prefix, field: func(name string) *fieldDef {
		switch name {
		case "meta":
			return &fieldDef{typeName: meta.name, obj: meta}
		case "groupedBy":
			return &fieldDef{typeName: prefix + "GroupedByObj", unsupported: "groupBy is not supported yet"}
		}
		if p := class.Property(name); p != nil {
			return &fieldDef{typeName: prefix + p.Name + "Obj",
				unsupported: "aggregating property values is not supported yet"}
		}
		return nil
	}}
}

func upperFirst(s string) string { return schema.NormalizeClassName(s) }
