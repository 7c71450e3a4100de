package grpcapi

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"

	"strata/internal/db"
	"strata/internal/schema"
)

// Search lists objects (optionally filtered, paged by offset or by the
// after cursor) or searches them by near_vector, and returns the selected
// properties and metadata of each result.
func (s *Server) Search(ctx context.Context, req *pb.SearchRequest) (*pb.SearchReply, error) {
	start := time.Now()
	class, err := s.class(req.Collection)
	if err != nil {
		return nil, err
	}
	if err := searchUnsupported(req); err != nil {
		return nil, err
	}
	p := db.SearchParams{Class: class.Class, Tenant: req.Tenant, Offset: int(req.Offset)}
	if p.Where, err = whereIn(class, req.Filters); err != nil {
		return nil, err
	}
	switch {
	case req.NearVector != nil && req.NearObject != nil:
		return nil, invalidf("near_vector and near_object cannot be combined")
	case req.NearVector != nil:
		if err := nearVectorIn(class, req.NearVector, &p); err != nil {
			return nil, err
		}
	case req.NearObject != nil:
		if err := nearObjectIn(class, req.NearObject, &p); err != nil {
			return nil, err
		}
	}
	if err := s.page(req, &p); err != nil {
		return nil, err
	}
	sel, err := selectProperties(class, req.Properties)
	if err != nil {
		return nil, err
	}
	meta := metadataIn(class, req.Metadata, p.Vector != nil || p.NearObject != nil, p.VectorName)
	p.WithVectors = meta.vector || len(meta.vectors) > 0

	hits, err := s.db.Search(ctx, p)
	if err != nil {
		return nil, err
	}
	reply := &pb.SearchReply{Results: make([]*pb.SearchResult, 0, len(hits))}
	for _, h := range hits {
		props, err := propertiesOut(h.Object.Properties, sel)
		if err != nil {
			return nil, err
		}
		res := &pb.PropertiesResult{TargetCollection: class.Class}
		if len(props.Fields) > 0 {
			res.NonRefProps = props
		}
		reply.Results = append(reply.Results, &pb.SearchResult{Properties: res, Metadata: meta.result(h)})
	}
	reply.Took = took(start)
	return reply, nil
}

// searchUnsupported refuses the search operators and options Strata does
// not implement, naming them.
func searchUnsupported(req *pb.SearchRequest) error {
	for _, o := range []struct {
		set  bool
		what string
	}{
		{req.HybridSearch != nil, "hybrid search"},
		{req.Bm25Search != nil, "bm25 search"},
		{req.NearObject.GetSelection() != nil, "near_object selection (MMR)"},
		{req.NearText != nil, "near_text search (it needs a vectorizer module)"},
		{req.NearImage != nil || req.NearAudio != nil || req.NearVideo != nil ||
			req.NearDepth != nil || req.NearThermal != nil || req.NearImu != nil, "multi-modal near search (it needs a vectorizer module)"},
		{req.GroupBy != nil, "group_by"},
		{len(req.SortBy) > 0, "sort_by"},
		{req.Autocut > 0, "autocut"},
		{req.Generative != nil, "generative search"},
		{req.Rerank != nil, "rerank"},
		{req.Boost != nil, "boost"},
		{req.NearVector.GetSelection() != nil, "near_vector selection (MMR)"},
	} {
		if o.set {
			return unsupportedf("%s is not supported: Strata searches with near_vector, filters, limit, offset and after", o.what)
		}
	}
	return nil
}

// page sets the limit and the cursor, with Weaviate's rules: limit 0 means
// QUERY_DEFAULTS_LIMIT, offset+limit is capped by QUERY_MAXIMUM_RESULTS, and
// the after cursor combines with nothing but limit.
func (s *Server) page(req *pb.SearchRequest, p *db.SearchParams) error {
	p.Limit = int(req.Limit)
	if p.Limit == 0 {
		p.Limit = s.cfg.QueryDefaultsLimit
	}
	if req.After != "" {
		const prefix = "cursor api: invalid 'after' parameter: "
		if p.Vector != nil || p.NearObject != nil {
			return invalidf(prefix + "other params cannot be set with after and limit parameters")
		}
		var params []string
		if p.Offset > 0 {
			params = append(params, "offset")
		}
		if p.Where != nil {
			params = append(params, "where")
		}
		if len(params) > 0 {
			return invalidf("%s%s cannot be set with after and limit parameters", prefix, strings.Join(params, ","))
		}
		id, err := uuid.Parse(req.After)
		if err != nil {
			return invalidf("%safter parameter '%s' is not a valid uuid: %v", prefix, req.After, err)
		}
		p.After = &id
	}
	if p.Offset+p.Limit > s.cfg.QueryMaximumResults {
		return invalidf("query maximum results exceeded: offset %d + limit %d is more than QUERY_MAXIMUM_RESULTS (%d)",
			p.Offset, p.Limit, s.cfg.QueryMaximumResults)
	}
	return nil
}

// nearVectorIn reads the query vector (vectors[], or the deprecated
// vector_bytes, vector, vector_for_targets and vector_per_target), the
// vector it searches and the distance bound.
func nearVectorIn(class *schema.Class, nv *pb.NearVector, p *db.SearchParams) error {
	targets := nv.GetTargets().GetTargetVectors()
	if len(targets) == 0 {
		targets = nv.TargetVectors // deprecated field, still sent by old clients
	}
	var vec []float32
	var named string
	var err error
	switch {
	case len(nv.Vectors) > 0:
		if len(nv.Vectors) > 1 {
			return unsupportedf("near_vector with %d query vectors is not supported: send one", len(nv.Vectors))
		}
		named = nv.Vectors[0].Name
		vec, err = queryVector(nv.Vectors[0])
	case len(nv.VectorBytes) > 0:
		vec, err = float32s(nv.VectorBytes)
	case len(nv.Vector) > 0:
		vec = nv.Vector
	case len(nv.VectorForTargets) > 0:
		if len(nv.VectorForTargets) > 1 {
			return unsupportedf("searching several target vectors at once is not supported yet")
		}
		vt := nv.VectorForTargets[0]
		named = vt.Name
		switch {
		case len(vt.Vectors) > 1:
			return unsupportedf("near_vector with %d query vectors is not supported: send one", len(vt.Vectors))
		case len(vt.Vectors) == 1:
			vec, err = queryVector(vt.Vectors[0])
		default:
			vec, err = float32s(vt.VectorBytes)
		}
	case len(nv.VectorPerTarget) > 0:
		if len(nv.VectorPerTarget) > 1 {
			return unsupportedf("searching several target vectors at once is not supported yet")
		}
		for name, b := range nv.VectorPerTarget {
			named = name
			vec, err = float32s(b)
		}
	}
	if err != nil {
		return invalidf("near_vector: %s", err.Error())
	}
	if len(vec) == 0 {
		return invalidf("near_vector: a non-empty vector is required (vectors, or vector_bytes)")
	}
	if i := nonFinite(vec); i >= 0 {
		return invalidf("near_vector: the vector has a non-finite value (%v) at position %d", vec[i], i)
	}
	if named != "" && !slices.Contains(targets, named) {
		targets = append(targets, named)
	}
	if len(targets) > 1 {
		return unsupportedf("searching several target vectors at once (%s) is not supported yet", strings.Join(targets, ", "))
	}
	name, err := targetVector(class, targets)
	if err != nil {
		return err
	}
	if err := boundsIn(class, name, "near_vector", nv.Certainty, nv.Distance, p); err != nil {
		return err
	}
	p.Vector, p.VectorName = vec, name
	return nil
}

// nearObjectIn sets p to search with the vector of the object near_object
// names (the database looks it up in the same collection and tenant).
func nearObjectIn(class *schema.Class, no *pb.NearObject, p *db.SearchParams) error {
	id, err := uuid.Parse(no.Id)
	if err != nil {
		return invalidf("near_object: invalid id %q", no.Id)
	}
	targets := no.GetTargets().GetTargetVectors()
	if len(targets) == 0 {
		targets = no.TargetVectors // deprecated field, still sent by old clients
	}
	if len(targets) > 1 {
		return unsupportedf("searching several target vectors at once (%s) is not supported yet", strings.Join(targets, ", "))
	}
	name, err := targetVector(class, targets)
	if err != nil {
		return err
	}
	if err := boundsIn(class, name, "near_object", no.Certainty, no.Distance, p); err != nil {
		return err
	}
	p.NearObject, p.VectorName = &id, name
	return nil
}

// boundsIn sets p.MaxDistance from a search's distance or certainty
// (cosine only) for the vector name searched.
func boundsIn(class *schema.Class, name, what string, certainty, distance *float64, p *db.SearchParams) error {
	for _, b := range []struct {
		name string
		v    *float64
	}{{"distance", distance}, {"certainty", certainty}} {
		if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
			return invalidf("%s: %s must be a finite number, got %v", what, b.name, *b.v)
		}
	}
	switch {
	case certainty != nil && distance != nil:
		return invalidf("%s: cannot provide distance and certainty", what)
	case distance != nil:
		d := float32(*distance)
		p.MaxDistance = &d
	case certainty != nil:
		if d := class.Distance(name); d != schema.DistanceCosine {
			return invalidf("can't compute and return certainty when vector index is configured with %s distance", d)
		}
		d := schema.CertaintyDistance(*certainty)
		p.MaxDistance = &d
	}
	return nil
}

// nonFinite returns the position of the first NaN or infinity in v, or -1.
func nonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}

// queryVector decodes one single (not multi-) vector.
func queryVector(v *pb.Vectors) ([]float32, error) {
	if v.Type == pb.Vectors_VECTOR_TYPE_MULTI_FP32 {
		return nil, unsupportedf("multi-vector queries are not supported")
	}
	return float32s(v.VectorBytes)
}

// targetVector picks the vector to search: the one named (at most one), the
// only named vector of the class, or the legacy unnamed vector ("").
func targetVector(class *schema.Class, targets []string) (string, error) {
	names := class.VectorNames()
	if len(targets) == 1 {
		if _, ok := class.VectorConfig[targets[0]]; !ok {
			return "", invalidf("collection %s does not have named vector %q configured. Available named vectors %v",
				class.Class, targets[0], names)
		}
		return targets[0], nil
	}
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", invalidf("collection %s has multiple vectors, but no target vectors were provided (available: %v)", class.Class, names)
}

// selectProperties resolves which properties a search returns: without a
// request, or with return_all_nonref_properties, every property that is
// neither a reference nor a blob; and the named ones (blobs too), and
// object properties with the nested fields asked for.
func selectProperties(class *schema.Class, req *pb.PropertiesRequest) ([]selection, error) {
	if len(req.GetRefProperties()) > 0 {
		return nil, unsupportedf("returning cross-reference properties is not supported yet")
	}
	var out []selection
	add := func(sel selection) {
		for i := range out {
			if out[i].prop.Name == sel.prop.Name {
				out[i] = sel
				return
			}
		}
		out = append(out, sel)
	}
	if req == nil || req.ReturnAllNonrefProperties {
		for _, p := range class.Properties {
			dt, err := schema.ParseDataType(p.DataType, nil)
			if err == nil && !dt.Ref && dt.Name != schema.TypeBlob {
				add(selection{prop: p})
			}
		}
	}
	for _, name := range req.GetNonRefProperties() {
		p, err := property(class, class.Properties, name)
		if err != nil {
			return nil, err
		}
		if dt, _ := schema.ParseDataType(p.DataType, nil); dt.Ref {
			return nil, invalidf("property %q is a cross-reference: request it in ref_properties", p.Name)
		}
		add(selection{prop: p})
	}
	for _, o := range req.GetObjectProperties() {
		sel, err := objectSelection(class, class.Properties, o)
		if err != nil {
			return nil, err
		}
		add(sel)
	}
	return out, nil
}

// objectSelection resolves a request for some nested fields of an object property.
func objectSelection(class *schema.Class, props []*schema.Property, o *pb.ObjectPropertiesRequest) (selection, error) {
	p, err := property(class, props, o.PropName)
	if err != nil {
		return selection{}, err
	}
	if dt, _ := schema.ParseDataType(p.DataType, nil); !dt.IsObject() {
		return selection{}, invalidf("property %q is not an object: list it in non_ref_properties", p.Name)
	}
	sel := selection{prop: p, nested: []selection{}}
	for _, name := range o.PrimitiveProperties {
		np, err := property(class, p.NestedProperties, name)
		if err != nil {
			return selection{}, err
		}
		sel.nested = append(sel.nested, selection{prop: np})
	}
	for _, sub := range o.ObjectProperties {
		ns, err := objectSelection(class, p.NestedProperties, sub)
		if err != nil {
			return selection{}, err
		}
		sel.nested = append(sel.nested, ns)
	}
	return sel, nil
}

// property finds a property by name among props (a class's or an object's).
func property(class *schema.Class, props []*schema.Property, name string) (*schema.Property, error) {
	for _, n := range []string{name, schema.NormalizePropertyName(name)} {
		for _, p := range props {
			if p != nil && p.Name == n {
				return p, nil
			}
		}
	}
	return nil, invalidf("%s", (&schema.UnknownPropertyError{Class: class.Class, Property: name}).Error())
}

// metadataWanted is what a search returns besides properties.
type metadataWanted struct {
	req       *pb.MetadataRequest // nil: nothing
	vector    bool                // the legacy unnamed vector
	vectors   []string            // named vectors
	certainty bool
}

// metadataIn resolves a metadata request. vector=true returns every vector
// the object has (all named vectors on a class that has them); certainty is
// returned only for a vector search on a cosine index.
func metadataIn(class *schema.Class, m *pb.MetadataRequest, vectorSearch bool, vectorName string) metadataWanted {
	w := metadataWanted{req: m}
	if m == nil {
		return w
	}
	if m.Vector {
		if names := class.VectorNames(); len(names) > 0 {
			w.vectors = names
		} else {
			w.vector = true
		}
	}
	for _, n := range m.Vectors {
		if !slices.Contains(w.vectors, n) {
			w.vectors = append(w.vectors, n)
		}
	}
	w.certainty = m.Certainty && vectorSearch && class.Distance(vectorName) == schema.DistanceCosine
	return w
}

// result encodes the metadata of one hit.
func (w metadataWanted) result(h db.SearchHit) *pb.MetadataResult {
	out := &pb.MetadataResult{}
	m, o := w.req, h.Object
	if m == nil {
		return out
	}
	if m.Uuid {
		out.Id = o.ID.String()
		out.IdAsBytes = o.ID[:]
	}
	if w.vector && len(o.Vector) > 0 {
		out.VectorBytes = float32Bytes(o.Vector)
	}
	for _, name := range w.vectors {
		if v := o.Vectors[name]; len(v) > 0 {
			out.Vectors = append(out.Vectors, &pb.Vectors{Name: name, VectorBytes: float32Bytes(v), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32})
		}
	}
	if m.CreationTimeUnix {
		out.CreationTimeUnix, out.CreationTimeUnixPresent = o.CreationTimeUnix, true
	}
	if m.LastUpdateTimeUnix {
		out.LastUpdateTimeUnix, out.LastUpdateTimeUnixPresent = o.LastUpdateTimeUnix, true
	}
	if m.Distance && h.Distance != nil {
		out.Distance, out.DistancePresent = *h.Distance, true
	}
	if w.certainty && h.Distance != nil {
		out.Certainty, out.CertaintyPresent = float32(schema.Certainty(*h.Distance)), true
	}
	return out
}
