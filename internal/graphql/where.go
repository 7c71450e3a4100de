package graphql

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"strata/internal/filter"
)

// whereArg turns a resolved `where` argument into a filter clause. The
// clause is checked against the class by the backend (filter.Validate).
func whereArg(v any) (*filter.Clause, error) {
	w, err := whereFilter("where", v)
	if err != nil {
		return nil, fmt.Errorf("could not extract filters: %w", err)
	}
	c, err := filter.Parse(w)
	if err != nil {
		return nil, fmt.Errorf("could not extract filters: %w", err)
	}
	return c, nil
}

// whereFilter converts a resolved where input object into Weaviate's
// WhereFilter shape. As in Weaviate's GraphQL, a value<Type> field given a
// list is that type's array form (valueInt: [1, 2] is valueIntArray).
func whereFilter(arg string, v any) (*filter.WhereFilter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badValue(arg, "an input object", v)
	}
	w := &filter.WhereFilter{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val, field := m[k], arg+"."+k
		if val == nil {
			continue
		}
		var err error
		switch k {
		case "operator":
			var s string
			if s, err = stringArg(field, val); err == nil {
				w.Operator = s
			}
		case "path":
			w.Path, err = stringListArg(field, val)
		case "operands":
			for i, o := range listOf(val) {
				var sub *filter.WhereFilter
				if sub, err = whereFilter(fmt.Sprintf("%s[%d]", field, i), o); err != nil {
					break
				}
				w.Operands = append(w.Operands, sub)
			}
		case "valueInt":
			err = whereInts(field, val, w)
		case "valueNumber":
			err = whereNumbers(field, val, w)
		case "valueBoolean":
			err = whereBooleans(field, val, w)
		case "valueText":
			w.ValueText, w.ValueTextArray, err = whereStrings(field, val)
		case "valueString":
			w.ValueString, w.ValueStringArray, err = whereStrings(field, val)
		case "valueDate":
			w.ValueDate, w.ValueDateArray, err = whereStrings(field, val)
		case "valueGeoRange":
			w.ValueGeoRange = json.RawMessage(printValue(val))
		default:
			err = fmt.Errorf("unknown field %q in argument %q", k, arg)
		}
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

func whereInts(field string, v any, w *filter.WhereFilter) error {
	conv := func(item any) (int64, error) {
		n, ok := item.(json.Number)
		if !ok {
			return 0, badValue(field, "Int", v)
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
			return 0, badValue(field, "Int", v)
		}
		return int64(f), nil
	}
	if l, ok := v.([]any); ok {
		for _, item := range l {
			i, err := conv(item)
			if err != nil {
				return err
			}
			w.ValueIntArray = append(w.ValueIntArray, i)
		}
		return nil
	}
	i, err := conv(v)
	w.ValueInt = &i
	return err
}

func whereNumbers(field string, v any, w *filter.WhereFilter) error {
	if l, ok := v.([]any); ok {
		for _, item := range l {
			f, err := floatArg(field, item)
			if err != nil {
				return badValue(field, "[Float]", v)
			}
			w.ValueNumberArray = append(w.ValueNumberArray, f)
		}
		return nil
	}
	f, err := floatArg(field, v)
	w.ValueNumber = &f
	return err
}

func whereBooleans(field string, v any, w *filter.WhereFilter) error {
	if l, ok := v.([]any); ok {
		for _, item := range l {
			b, ok := item.(bool)
			if !ok {
				return badValue(field, "[Boolean]", v)
			}
			w.ValueBooleanArray = append(w.ValueBooleanArray, b)
		}
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		return badValue(field, "Boolean", v)
	}
	w.ValueBoolean = &b
	return nil
}

func whereStrings(field string, v any) (*string, []string, error) {
	if _, ok := v.([]any); ok {
		l, err := stringListArg(field, v)
		return nil, l, err
	}
	s, err := stringArg(field, v)
	if err != nil {
		return nil, nil, err
	}
	return &s, nil, nil
}
