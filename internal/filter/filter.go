// Package filter is the model of a query's where filter — the one tree
// that REST (batch delete), GraphQL (`where`) and gRPC (`Filters`) requests
// are turned into — the parsing of Weaviate's WhereFilter JSON shape into
// it, and its validation against a class. Evaluation lives with the data
// it reads (internal/shard).
package filter

import "time"

// Operator is a where-filter operator, named as in Weaviate's API.
type Operator string

// Operators.
const (
	And              Operator = "And"
	Or               Operator = "Or"
	Not              Operator = "Not"
	Equal            Operator = "Equal"
	NotEqual         Operator = "NotEqual"
	GreaterThan      Operator = "GreaterThan"
	GreaterThanEqual Operator = "GreaterThanEqual"
	LessThan         Operator = "LessThan"
	LessThanEqual    Operator = "LessThanEqual"
	Like             Operator = "Like"
	IsNull           Operator = "IsNull"
	ContainsAny      Operator = "ContainsAny"
	ContainsAll      Operator = "ContainsAll"
	ContainsNone     Operator = "ContainsNone"
)

// Special properties a clause may test besides the class's own.
const (
	PropID             = "_id"
	PropCreationTime   = "_creationTimeUnix"
	PropLastUpdateTime = "_lastUpdateTimeUnix"
)

// PathProperty is the property a one-element path names: "id" (which no
// class property can be called) is Weaviate's other name for "_id".
func PathProperty(name string) string {
	if name == "id" {
		return PropID
	}
	return name
}

// ValueType is the type of a clause's value, from the value key it was
// given under (valueText, valueInt, …).
type ValueType int

// Value types.
const (
	TypeText ValueType = iota + 1
	TypeInt
	TypeNumber
	TypeBoolean
	TypeDate
)

// Clause is a node of a filter tree: a combinator (And, Or, Not) with
// Operands, or a comparison of Property with Value.
type Clause struct {
	Operator Operator
	Operands []*Clause // And, Or, Not only

	// Property is the one-element path of a comparison: a property name
	// or one of the Prop* names.
	Property string
	Value    Value
}

// Value is a comparison's value. Exactly the slice of Type is set; it has
// one element unless Array is true (the value came as value<Type>Array,
// as ContainsAny/ContainsAll/ContainsNone take it).
type Value struct {
	Type     ValueType
	Array    bool
	Texts    []string
	Ints     []int64
	Numbers  []float64
	Booleans []bool
	Dates    []time.Time
}
