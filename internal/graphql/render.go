package graphql

import (
	"bytes"
	"encoding/json"
	"fmt"

	"strata/internal/schema"
)

// renderObject shapes one result according to the selection.
func renderObject(class *schema.Class, fields []*field, r *Result) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	var props map[string]any
	decoded := false
	for _, f := range fields {
		switch f.name {
		case "__typename":
			out[f.key] = class.Class
		case "_additional":
			out[f.key] = renderAdditional(f, r)
		default:
			if !decoded {
				var err error
				if props, err = decodeProperties(r.Properties); err != nil {
					return nil, fmt.Errorf("object %s: decode properties: %w", r.ID, err)
				}
				decoded = true
			}
			out[f.key] = project(props[f.name], f)
		}
	}
	return out, nil
}

// decodeProperties decodes stored properties, keeping numbers as json.Number
// so integers stay integers.
func decodeProperties(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		return nil, err
	}
	return props, nil
}

// project applies a field's sub-selection to a stored value: objects keep the
// selected keys, lists are projected element by element, leaves pass through.
func project(v any, f *field) any {
	if f.def.obj == nil || v == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(f.children))
		for _, c := range f.children {
			if c.name == "__typename" {
				out[c.key] = f.def.obj.name
				continue
			}
			out[c.key] = project(x[c.name], c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = project(e, f)
		}
		return out
	default:
		return nil
	}
}

// renderAdditional renders _additional { … } for one result.
func renderAdditional(f *field, r *Result) map[string]any {
	out := make(map[string]any, len(f.children))
	for _, c := range f.children {
		switch c.name {
		case "__typename":
			out[c.key] = f.def.obj.name
		case "id":
			out[c.key] = r.ID.String()
		case "distance":
			if r.Distance != nil {
				out[c.key] = finite(*r.Distance) // float32: printed at float32 precision
			} else {
				out[c.key] = nil
			}
		case "certainty":
			if r.Distance != nil {
				out[c.key] = finite(schema.Certainty(*r.Distance))
			} else {
				out[c.key] = nil
			}
		case "vector":
			out[c.key] = vectorValue(r.Vector)
		case "vectors":
			vectors := make(map[string]any, len(c.children))
			for _, n := range c.children {
				if n.name == "__typename" {
					vectors[n.key] = c.def.obj.name
					continue
				}
				vectors[n.key] = vectorValue(r.Vectors[n.name])
			}
			out[c.key] = vectors
		case "creationTimeUnix":
			out[c.key] = fmt.Sprint(r.CreationTimeUnix)
		case "lastUpdateTimeUnix":
			out[c.key] = fmt.Sprint(r.LastUpdateTimeUnix)
		default: // score, explainScore: only set by keyword searches
			out[c.key] = nil
		}
	}
	return out
}

func vectorValue(v []float32) any {
	if v == nil {
		return nil
	}
	return v
}
