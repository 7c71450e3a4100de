package graphql

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// selectOperation picks the operation to run, as graphql-go does.
func selectOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *Error) {
	if name != "" {
		if op := doc.Operations.ForName(name); op != nil {
			return op, nil
		}
		return nil, &Error{Message: fmt.Sprintf("Unknown operation named %q.", name)}
	}
	switch len(doc.Operations) {
	case 0:
		return nil, &Error{Message: "Must provide an operation."}
	case 1:
		return doc.Operations[0], nil
	default:
		return nil, &Error{Message: "Must provide operation name if query contains multiple operations."}
	}
}

// coerceVariables checks the supplied variables against the operation's
// declarations and fills in defaults. Only declared variables are kept.
func coerceVariables(op *ast.OperationDefinition, supplied map[string]any) (map[string]any, []*Error) {
	vars := map[string]any{}
	var errs []*Error
	for _, d := range op.VariableDefinitions {
		v, ok := supplied[d.Variable]
		switch {
		case ok && v != nil:
			vars[d.Variable] = normalizeJSON(v)
		case ok && d.Type.NonNull:
			errs = append(errs, validationError(d.Position,
				"Variable \"$%s\" of non-null type %q must not be null.", d.Variable, d.Type.String()))
		case ok:
			vars[d.Variable] = nil
		case d.DefaultValue != nil:
			vars[d.Variable], _ = resolveValue(d.DefaultValue, nil)
		case d.Type.NonNull:
			errs = append(errs, validationError(d.Position,
				"Variable \"$%s\" of required type %q was not provided.", d.Variable, d.Type.String()))
		}
	}
	return vars, errs
}

// undefinedVariables reports variables used in the operation (or in the
// fragments it spreads) that the operation does not declare.
func undefinedVariables(doc *ast.QueryDocument, op *ast.OperationDefinition) []*Error {
	var errs []*Error
	visited := map[string]bool{}
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable && op.VariableDefinitions.ForName(v.Raw) == nil {
			msg := fmt.Sprintf("Variable \"$%s\" is not defined.", v.Raw)
			if op.Name != "" {
				msg = fmt.Sprintf("Variable \"$%s\" is not defined by operation %q.", v.Raw, op.Name)
			}
			errs = append(errs, newError(nil, msg, v.Position, op.Position))
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	directives := func(dirs ast.DirectiveList) {
		for _, d := range dirs {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	var set func(s ast.SelectionSet)
	set = func(s ast.SelectionSet) {
		for _, sel := range s {
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					value(a.Value)
				}
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.InlineFragment:
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.FragmentSpread:
				directives(s.Directives)
				if def := doc.Fragments.ForName(s.Name); def != nil && !visited[s.Name] {
					visited[s.Name] = true
					set(def.SelectionSet)
				}
			}
		}
	}
	set(op.SelectionSet)
	return errs
}
