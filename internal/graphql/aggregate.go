package graphql

import (
	"fmt"

	"strata/internal/filter"
)

// aggregate runs Aggregate.<Class> and writes its result. Only
// meta { count } is implemented (with an optional where filter); the
// result is always a one-element list, as in Weaviate without groupBy.
func (x *execution) aggregate(out *bodyWriter, f *field, _ []any) error {
	v, err := x.aggregateValue(f)
	if err != nil {
		return err
	}
	out.value(v)
	return nil
}

func (x *execution) aggregateValue(f *field) (any, error) {
	class := f.def.class
	args := x.args(f)
	var tenant string
	if v, ok := args["tenant"]; ok {
		var err error
		if tenant, err = stringArg("tenant", v); err != nil {
			return nil, err
		}
	}
	var where *filter.Clause
	if v, ok := args["where"]; ok {
		var err error
		if where, err = whereArg(v); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"groupBy", "nearVector", "nearObject", "hybrid"} {
		if _, ok := args[name]; ok {
			return nil, fmt.Errorf("the %s argument is not supported yet", name)
		}
	}
	if err := unsupported(f.children); err != nil {
		return nil, err
	}

	var count *int64
	out := map[string]any{}
	for _, c := range f.children {
		switch c.name {
		case "__typename":
			out[c.key] = f.def.obj.name
		case "meta":
			meta := map[string]any{}
			for _, m := range c.children {
				switch m.name {
				case "__typename":
					meta[m.key] = c.def.obj.name
				case "count":
					if count == nil {
						n, err := x.backend.Count(x.ctx, class.Class, tenant, where)
						if err != nil {
							return nil, err
						}
						count = &n
					}
					meta[m.key] = *count
				}
			}
			out[c.key] = meta
		}
	}
	return []any{out}, nil
}
