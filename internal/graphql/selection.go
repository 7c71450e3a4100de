package graphql

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// field is one selected field after fragments are expanded and fields with
// the same response key are merged. Validation fills def and children.
type field struct {
	key      string // response key: the alias, or the name
	name     string
	pos      *ast.Position
	args     ast.ArgumentList
	sets     []ast.SelectionSet // sub-selections of every merged occurrence
	def      *fieldDef
	children []*field // validated sub-selection of object-typed fields
}

func (f *field) hasSelection() bool {
	for _, s := range f.sets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// validator walks the operation against the object types, building the
// field tree and collecting validation errors. It counts the selections it
// visits as it expands fragments and stops at the first limit exceeded,
// before the work grows: fragments that spread each other twice double
// the selections at every level.
type validator struct {
	doc    *ast.QueryDocument
	vars   map[string]any
	limits Limits
	errs   []*Error

	visited   int    // selections visited, fragments expanded
	overLimit *Error // set when a limit is exceeded: the walk stops
}

func (v *validator) errorf(pos *ast.Position, format string, args ...any) {
	v.errs = append(v.errs, validationError(pos, format, args...))
}

// selection validates the selection sets (of one field, merged) against t;
// their fields are at the given depth (1: the root fields).
func (v *validator) selection(sets []ast.SelectionSet, t *objectType, depth int) []*field {
	fields := v.collect(sets, t.name)
	if len(fields) > 0 && depth > v.limits.MaxDepth && v.overLimit == nil {
		v.overLimit = newError(nil, tooDeep(v.limits.MaxDepth), fields[0].pos)
	}
	if v.overLimit != nil {
		return nil
	}
	for _, f := range fields {
		if f.name == "__typename" {
			f.def = typenameDef
		} else {
			f.def = t.field(f.name)
		}
		if f.def == nil {
			v.errorf(f.pos, "Cannot query field %q on type %q.", f.name, t.name)
			continue
		}
		for _, a := range f.args {
			if !f.def.args[a.Name] {
				v.errorf(a.Position, "Unknown argument %q on field %q of type %q.", a.Name, f.name, t.name)
			}
		}
		isObject := f.def.obj != nil || f.def.unsupported != ""
		switch {
		case !isObject && f.hasSelection():
			v.errorf(f.pos, "Field %q of type %q must not have a sub selection.", f.name, f.def.typeName)
		case isObject && !f.hasSelection():
			v.errorf(f.pos, "Field %q of type %q must have a sub selection.", f.name, f.def.typeName)
		case f.def.obj != nil:
			f.children = v.selection(f.sets, f.def.obj, depth+1)
		}
		if v.overLimit != nil {
			return nil
		}
	}
	return fields
}

// collect expands fragments and directives of the selection sets and merges
// fields by response key, keeping the order of first appearance.
func (v *validator) collect(sets []ast.SelectionSet, typeName string) []*field {
	var out []*field
	byKey := map[string]*field{}
	spreading := map[string]bool{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if v.overLimit != nil {
				return
			}
			if v.visited++; v.visited > v.limits.MaxSelections {
				v.overLimit = newError(nil, tooManySelections(v.limits.MaxSelections), sel.GetPosition())
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				if !v.included(s.Directives) {
					continue
				}
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				if f, ok := byKey[key]; ok {
					f.sets = append(f.sets, s.SelectionSet)
					continue
				}
				f := &field{key: key, name: s.Name, pos: s.Position, args: s.Arguments,
					sets: []ast.SelectionSet{s.SelectionSet}}
				byKey[key] = f
				out = append(out, f)
			case *ast.InlineFragment:
				if !v.included(s.Directives) {
					continue
				}
				if s.TypeCondition != "" && s.TypeCondition != typeName {
					v.errorf(s.Position, "Fragment cannot be spread here as objects of type %q can never be of type %q.",
						typeName, s.TypeCondition)
					continue
				}
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if !v.included(s.Directives) {
					continue
				}
				def := v.doc.Fragments.ForName(s.Name)
				switch {
				case def == nil:
					v.errorf(s.Position, "Unknown fragment %q.", s.Name)
				case spreading[s.Name]:
					v.errorf(s.Position, "Cannot spread fragment %q within itself.", s.Name)
				case def.TypeCondition != typeName:
					v.errorf(s.Position, "Fragment %q cannot be spread here as objects of type %q can never be of type %q.",
						s.Name, typeName, def.TypeCondition)
				default:
					spreading[s.Name] = true
					walk(def.SelectionSet)
					delete(spreading, s.Name)
				}
			}
		}
	}
	for _, set := range sets {
		walk(set)
	}
	return out
}

// included evaluates @skip(if:) and @include(if:).
func (v *validator) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		var cond any
		if a := d.Arguments.ForName("if"); a != nil {
			cond, _ = resolveValue(a.Value, v.vars)
		}
		switch d.Name {
		case "skip":
			if cond == true {
				return false
			}
		case "include":
			if cond == false {
				return false
			}
		default:
			v.errorf(d.Position, "Unknown directive %q.", d.Name)
		}
	}
	return true
}
