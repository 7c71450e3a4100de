package graphql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// Argument values are resolved into plain Go values before they are
// interpreted: nil, bool, string (strings and enums), json.Number (ints and
// floats, keeping their text so vectors convert to float32 exactly once),
// []any and map[string]any. Variables go through normalizeJSON so they take
// the same shapes.

// resolveValue resolves an AST value, substituting variables. ok is false when
// the value is a variable that was neither supplied nor defaulted: GraphQL
// treats such an argument or input field as absent.
func resolveValue(v *ast.Value, vars map[string]any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch v.Kind {
	case ast.Variable:
		val, ok := vars[v.Raw]
		return val, ok
	case ast.IntValue, ast.FloatValue:
		return json.Number(v.Raw), true
	case ast.StringValue, ast.BlockValue, ast.EnumValue:
		return v.Raw, true
	case ast.BooleanValue:
		return v.Raw == "true", true
	case ast.ListValue:
		out := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			val, _ := resolveValue(c.Value, vars)
			out = append(out, val)
		}
		return out, true
	case ast.ObjectValue:
		out := make(map[string]any, len(v.Children))
		for _, c := range v.Children {
			if val, ok := resolveValue(c.Value, vars); ok {
				out[c.Name] = val
			}
		}
		return out, true
	default: // ast.NullValue
		return nil, true
	}
}

// normalizeJSON brings a variable value (decoded from the request JSON, with
// or without UseNumber, or built in Go) into the resolved-value shapes.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case nil, bool, string, json.Number:
		return x
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case float32:
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	default:
		// Anything else (typed slices, structs): take its JSON form.
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err != nil {
			return fmt.Sprint(x)
		}
		return out
	}
}

// badValue is the error for an argument value of the wrong type.
func badValue(arg, want string, v any) error {
	return fmt.Errorf("invalid value for argument %q: expected %s, found %s", arg, want, printValue(v))
}

// printValue renders a resolved value for error messages.
func printValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// intArg reads a GraphQL Int (32-bit); integral floats are accepted.
func intArg(arg string, v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, badValue(arg, "Int", v)
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return 0, badValue(arg, "Int", v)
		}
		i = int64(f)
	}
	return int(i), nil
}

// floatArg reads a GraphQL Float; NaN and infinities are refused.
func floatArg(arg string, v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, badValue(arg, "Float", v)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, badValue(arg, "a finite Float", v)
	}
	return f, nil
}

// stringArg reads a GraphQL String.
func stringArg(arg string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", badValue(arg, "String", v)
	}
	return s, nil
}

// listOf returns v as a list; GraphQL coerces a single value into a list of one.
func listOf(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// vectorArg reads a [Float] into float32s, parsing each number's text at
// 32-bit precision. A number beyond the float32 range (it would become an
// infinity) or NaN is refused, naming its position.
func vectorArg(arg string, v any) ([]float32, error) {
	items := listOf(v)
	out := make([]float32, len(items))
	for i, item := range items {
		n, ok := item.(json.Number)
		if !ok {
			return nil, badValue(arg, "[Float]", v)
		}
		f, err := strconv.ParseFloat(string(n), 32)
		if (err == nil || errors.Is(err, strconv.ErrRange)) && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, fmt.Errorf("invalid value for argument %q: %s at position %d is not a finite 32-bit float", arg, n, i)
		}
		if err != nil {
			return nil, badValue(arg, "[Float]", v)
		}
		out[i] = float32(f)
	}
	return out, nil
}

// stringListArg reads a [String].
func stringListArg(arg string, v any) ([]string, error) {
	items := listOf(v)
	out := make([]string, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, badValue(arg, "[String]", v)
		}
		out[i] = s
	}
	return out, nil
}
