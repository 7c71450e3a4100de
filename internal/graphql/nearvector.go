package graphql

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"strata/internal/schema"
)

// nearVector fills the vector search fields of q from the nearVector argument.
func nearVector(class *schema.Class, v any, q *Query) error {
	in, ok := v.(map[string]any)
	if !ok {
		return badValue("nearVector", "an input object", v)
	}
	m := map[string]any{}
	for k, val := range in {
		if val != nil {
			m[k] = val
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch k {
		case "vector", "distance", "certainty", "targetVectors":
		case "targets", "vectorPerTarget", "vectors":
			return fmt.Errorf("nearVector: %s is not supported yet", k)
		default:
			return fmt.Errorf("unknown field %q in argument \"nearVector\"", k)
		}
	}

	raw, ok := m["vector"]
	if !ok {
		return errors.New("nearVector: field \"vector\" is required")
	}
	vec, err := vectorArg("nearVector.vector", raw)
	if err != nil {
		return err
	}
	if len(vec) == 0 {
		return errors.New("nearVector: vector must not be empty")
	}
	var targets []string
	if t, ok := m["targetVectors"]; ok {
		if targets, err = stringListArg("nearVector.targetVectors", t); err != nil {
			return err
		}
	}
	name, err := targetVector(class, targets)
	if err != nil {
		return err
	}

	if err := searchBounds(class, name, "nearVector", m, q); err != nil {
		return err
	}
	q.Vector, q.VectorName = vec, name
	return nil
}

// searchBounds sets q.MaxDistance from a search argument's distance or
// certainty (cosine only) for the vector name searched.
func searchBounds(class *schema.Class, name, arg string, m map[string]any, q *Query) error {
	d, hasDistance := m["distance"]
	c, hasCertainty := m["certainty"]
	switch {
	case hasDistance && hasCertainty:
		return errors.New("cannot provide distance and certainty")
	case hasDistance:
		dist, err := floatArg(arg+".distance", d)
		if err != nil {
			return err
		}
		maxDist := float32(dist)
		q.MaxDistance = &maxDist
	case hasCertainty:
		cert, err := floatArg(arg+".certainty", c)
		if err != nil {
			return err
		}
		if err := certaintyCompatible(class, name); err != nil {
			return err
		}
		maxDist := schema.CertaintyDistance(cert)
		q.MaxDistance = &maxDist
	}
	return nil
}

// nearObject fills the vector search fields of q from the nearObject
// argument: the search uses the vector of the object with that id (or
// beacon) in the same class.
func nearObject(class *schema.Class, v any, q *Query) error {
	in, ok := v.(map[string]any)
	if !ok {
		return badValue("nearObject", "an input object", v)
	}
	m := map[string]any{}
	for k, val := range in {
		if val != nil {
			m[k] = val
		}
	}
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		switch k {
		case "id", "beacon", "distance", "certainty", "targetVectors":
		case "targets":
			return fmt.Errorf("nearObject: %s is not supported yet", k)
		default:
			return fmt.Errorf("unknown field %q in argument \"nearObject\"", k)
		}
	}
	var ref string
	switch id, beacon := m["id"], m["beacon"]; {
	case id != nil && beacon != nil:
		return errors.New("nearObject: give either id or beacon, not both")
	case id != nil:
		s, err := stringArg("nearObject.id", id)
		if err != nil {
			return err
		}
		ref = s
	case beacon != nil:
		s, err := stringArg("nearObject.beacon", beacon)
		if err != nil {
			return err
		}
		ref = s[strings.LastIndex(s, "/")+1:] // weaviate://localhost/[Class/]<id>
	default:
		return errors.New("nearObject: id or beacon is required")
	}
	id, err := uuid.Parse(ref)
	if err != nil {
		return fmt.Errorf("nearObject: invalid id %q", ref)
	}
	var targets []string
	if t, ok := m["targetVectors"]; ok {
		if targets, err = stringListArg("nearObject.targetVectors", t); err != nil {
			return err
		}
	}
	name, err := targetVector(class, targets)
	if err != nil {
		return err
	}
	if err := searchBounds(class, name, "nearObject", m, q); err != nil {
		return err
	}
	q.NearObject, q.VectorName = &id, name
	return nil
}

// targetVector picks the vector to search: the one named (at most one), the
// only named vector of the class, or the legacy unnamed vector ("").
func targetVector(class *schema.Class, targets []string) (string, error) {
	if len(targets) > 1 {
		return "", errors.New("multiple target vectors are not supported yet")
	}
	if len(targets) == 1 {
		if _, ok := class.VectorConfig[targets[0]]; !ok {
			return "", fmt.Errorf("class %s does not have named vector %v configured. Available named vectors %v",
				class.Class, targets[0], class.VectorNames())
		}
		return targets[0], nil
	}
	switch len(class.VectorConfig) {
	case 0:
		return "", nil
	case 1:
		return class.VectorNames()[0], nil
	default:
		return "", fmt.Errorf("class %s has multiple vectors, but no target vectors were provided", class.Class)
	}
}

// certaintyCompatible rejects certainty on a vector index that is not cosine.
func certaintyCompatible(class *schema.Class, vectorName string) error {
	if d := class.Distance(vectorName); d != schema.DistanceCosine {
		return fmt.Errorf("can't compute and return certainty when vector index is configured with %s distance", d)
	}
	return nil
}
