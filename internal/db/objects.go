package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/schema"
	"strata/internal/shard"
	"strata/internal/vector"
)

// Object is a stored object with its class and tenant.
type Object struct {
	Class  string
	Tenant string
	shard.Object
}

// ObjectInput is an object as a client writes it. Properties must come from
// a JSON decoder with UseNumber; they are validated and normalised in place.
type ObjectInput struct {
	Class      string
	Tenant     string
	ID         uuid.UUID // stored as given, the nil UUID too
	GenerateID bool      // the client sent no id: ID is generated on store
	Properties map[string]any
	// RawProperties, a JSON object (or null), stands for Properties until
	// PutObjectsEach stores the input's chunk: a large batch then holds its
	// properties as compact JSON, not as decoded maps.
	RawProperties json.RawMessage
	Vector        []float32
	Vectors       map[string][]float32
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// ensureSchema creates, with auto-schema, the classes, properties, nested
// properties and tenants the inputs need but that do not exist yet. It
// computes and validates every class change first and applies them only
// when all are valid, so a rejected write changes no schema. Without
// auto-schema it creates only tenants; validation reports what is missing.
func (d *DB) ensureSchema(ins []*ObjectInput) error {
	if !d.needsSchemaChange(ins) {
		return nil
	}
	d.lockUnpinned(func() []string { return d.autoActivatedDirs(ins) })
	defer d.mu.Unlock()
	if d.opts.AutoSchema {
		if err := d.autoSchemaLocked(ins); err != nil {
			return err
		}
	}
	for _, in := range ins {
		col := d.lookup(in.Class)
		if col == nil {
			continue
		}
		mt := col.rec.Class.MultiTenancyConfig
		if in.Tenant != "" && mt != nil && mt.Enabled && mt.AutoTenantCreation && schema.ValidTenantName(in.Tenant) {
			if _, ok := col.rec.Tenants[in.Tenant]; !ok {
				if err := d.addTenantsLocked(col, []Tenant{{Name: in.Tenant}}); err != nil {
					return err
				}
			}
		}
		if col.autoActivates(in.Tenant) {
			if _, err := d.updateTenantsLocked(col, []Tenant{{Name: in.Tenant, ActivityStatus: TenantHot}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// autoActivatedDirs lists the shard directories of the inactive tenants
// that ins would activate. Caller holds d.mu.
func (d *DB) autoActivatedDirs(ins []*ObjectInput) []string {
	var dirs []string
	for _, in := range ins {
		if col := d.lookup(in.Class); col != nil && col.autoActivates(in.Tenant) {
			dirs = append(dirs, d.shardDir(col.rec.Class.Class, in.Tenant))
		}
	}
	return dirs
}

// autoSchemaLocked extends (or creates) the classes of ins with what their
// objects need. An object's additions are kept only when the object is
// valid against the extended class, so a write refused later (a value of
// the wrong type) adds nothing. Caller holds d.mu for writing.
func (d *DB) autoSchemaLocked(ins []*ObjectInput) error {
	now := time.Now()
	changed := map[string]*schema.Class{} // class name → its new definition
	var order []string
	for _, in := range ins {
		name := schema.NormalizeClassName(in.Class)
		u := changed[name]
		if u == nil {
			col := d.classes[name]
			switch {
			case col == nil && schema.ValidClassName(name):
				u = &schema.Class{Class: name}
				changed[name] = u
				order = append(order, name)
			case col != nil && col.rec.Class.NeedsExtension(in.Properties):
				u = col.rec.Class
			default:
				continue
			}
		}
		if !u.NeedsExtension(in.Properties) {
			continue
		}
		trial := u.Clone()
		ext, err := trial.Extend(in.Properties, now, d.opts.AutoSchemaLimits)
		if err != nil {
			return invalidf("%s", err.Error())
		}
		if !ext || trial.ValidateProperties(maps.Clone(in.Properties)) != nil {
			continue
		}
		if changed[name] == nil {
			order = append(order, name)
		}
		changed[name] = trial
	}
	// Validate every change before applying any.
	for _, name := range order {
		u := changed[name]
		if d.classes[name] == nil {
			c, err := d.newClassLocked(u, d.knownClassLocked(name))
			if err != nil {
				return err
			}
			changed[name] = c
			continue
		}
		if err := u.Validate(d.knownClassLocked(name)); err != nil {
			return invalidf("%s", err.Error())
		}
	}
	for _, name := range order {
		var err error
		if col := d.classes[name]; col == nil {
			err = d.installClassLocked(changed[name])
		} else {
			err = d.replaceClassLocked(col, changed[name])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) needsSchemaChange(ins []*ObjectInput) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, in := range ins {
		col := d.lookup(in.Class)
		if col == nil {
			if d.opts.AutoSchema {
				return true
			}
			continue
		}
		if d.opts.AutoSchema && col.rec.Class.NeedsExtension(in.Properties) {
			return true
		}
		mt := col.rec.Class.MultiTenancyConfig
		if in.Tenant != "" && mt != nil && mt.Enabled && mt.AutoTenantCreation {
			if _, ok := col.rec.Tenants[in.Tenant]; !ok {
				return true
			}
		}
		if col.autoActivates(in.Tenant) {
			return true
		}
	}
	return false
}

// prepare validates one input and builds the record to store. Caller holds d.mu.
func (d *DB) prepare(in *ObjectInput, now int64) (*collection, *shard.Shard, *shard.Object, error) {
	if in.GenerateID {
		in.ID, in.GenerateID = uuid.New(), false
	}
	if in.Class == "" {
		return nil, nil, nil, invalidf("invalid object: the given class is empty")
	}
	col := d.lookup(in.Class)
	if col == nil {
		return nil, nil, nil, invalidf("invalid object: class %q not found in schema", schema.NormalizeClassName(in.Class))
	}
	class := col.rec.Class
	s, err := d.shardFor(col, in.Tenant)
	if err != nil {
		return nil, nil, nil, err
	}
	if in.Properties == nil {
		in.Properties = map[string]any{}
	}
	if err := class.ValidateProperties(in.Properties); err != nil {
		return nil, nil, nil, invalidf("invalid object: %s", err.Error())
	}
	if err := checkVectors(class, in); err != nil {
		return nil, nil, nil, err
	}
	id := in.ID
	var props json.RawMessage
	if len(in.Properties) > 0 {
		if props, err = json.Marshal(in.Properties); err != nil {
			return nil, nil, nil, invalidf("invalid object: properties: %s", err.Error())
		}
	}
	return col, s, &shard.Object{
		ID: id, Properties: props, Vector: in.Vector, Vectors: in.Vectors,
		CreationTimeUnix: now, LastUpdateTimeUnix: now,
	}, nil
}

// legacyVectorToNamed applies Weaviate's rule between the legacy vector
// field and named vectors: on a class with one named vector the legacy
// field is that vector (with more it is an error), and on a class without
// named vectors a vector named "default" is the legacy one.
func legacyVectorToNamed(class *schema.Class, in *ObjectInput) error {
	if len(class.VectorConfig) == 0 {
		if v, ok := in.Vectors[defaultVectorName]; ok {
			in.Vector = v
			delete(in.Vectors, defaultVectorName)
		}
		return nil
	}
	if in.Vector == nil {
		return nil
	}
	if len(class.VectorConfig) > 1 || len(in.Vectors) > 0 {
		return invalidf("invalid object: class %s uses named vectors; send vectors under \"vectors\"", class.Class)
	}
	for name := range class.VectorConfig {
		in.Vectors = map[string][]float32{name: in.Vector}
	}
	in.Vector = nil
	return nil
}

// defaultVectorName is the name that carries the legacy vector through the
// named-vector fields (Weaviate's modelsext.DefaultNamedVectorName).
const defaultVectorName = "default"

func checkVectors(class *schema.Class, in *ObjectInput) error {
	if err := legacyVectorToNamed(class, in); err != nil {
		return err
	}
	for name, v := range in.Vectors {
		if _, ok := class.VectorConfig[name]; !ok {
			return invalidf("invalid object: vector %q is not configured for class %s", name, class.Class)
		}
		if len(v) == 0 {
			delete(in.Vectors, name)
		}
	}
	if len(in.Vectors) == 0 {
		in.Vectors = nil
	}
	if len(in.Vector) == 0 {
		in.Vector = nil
	}
	return nil
}

// mapShardErr turns shard-level errors into user-facing ones.
func mapShardErr(id uuid.UUID, err error) error {
	var dim *vector.DimensionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &dim):
		return &Error{Kind: KindInvalid, Msg: "invalid object: " + err.Error(), Err: err}
	case errors.Is(err, shard.ErrExists):
		return invalidf("id '%s' already exists", id)
	}
	return err
}

// AddObject inserts a new object; an existing id is an error.
func (d *DB) AddObject(ctx context.Context, in *ObjectInput) (*Object, error) {
	if err := in.DecodeProperties(); err != nil {
		return nil, err
	}
	if err := d.ensureSchema([]*ObjectInput{in}); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col, s, rec, err := d.prepare(in, nowMillis())
	if err != nil {
		return nil, err
	}
	if err := s.Insert(rec); err != nil {
		return nil, mapShardErr(rec.ID, err)
	}
	return &Object{Class: col.rec.Class.Class, Tenant: in.Tenant, Object: *rec}, nil
}

// BatchResult is the outcome of one object of a batch.
type BatchResult struct {
	Object *Object // as stored (also set for failures, with the input's id)
	Err    error
}

// PutObjects upserts objects (batch import). Per-object failures do not
// stop the others.
func (d *DB) PutObjects(ctx context.Context, ins []*ObjectInput) ([]BatchResult, error) {
	results := make([]BatchResult, len(ins))
	if err := d.PutObjectsEach(ctx, ins, func(i int, r BatchResult) { results[i] = r }); err != nil {
		return nil, err
	}
	return results, nil
}

// putChunkBytes bounds the estimated memory (inputBytes) of the objects
// written in one synced batch, so that a large import is stored in pieces
// of bounded memory.
var putChunkBytes = 4 << 20

// PutObjectsEach upserts objects like PutObjects and hands each result to
// done, in input order, as soon as the chunk holding it is stored; done may
// release the input. The chunks are stored one after the other, each with
// its schema changes (auto-schema) made first; an error returned after
// some results were handed over concerns the others.
func (d *DB) PutObjectsEach(ctx context.Context, ins []*ObjectInput, done func(i int, r BatchResult)) error {
	for start := 0; start < len(ins); {
		end, size := start, 0
		for end < len(ins) && (end == start || size < putChunkBytes) {
			size += inputBytes(ins[end])
			end++
		}
		results, err := d.putChunk(ctx, ins[start:end])
		if err != nil {
			return err
		}
		for j, r := range results {
			done(start+j, r)
		}
		start = end
	}
	return nil
}

// inputBytes estimates the memory storing an input takes: its vectors, its
// properties and their index entries, and the record around them.
func inputBytes(in *ObjectInput) int {
	n := 1024 + 4*len(in.Vector)
	for _, v := range in.Vectors {
		n += 4 * len(v)
	}
	return n + 256*len(in.Properties) + 8*len(in.RawProperties)
}

// DecodeProperties turns RawProperties, if set, into Properties.
func (in *ObjectInput) DecodeProperties() error {
	if in.RawProperties == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(in.RawProperties))
	dec.UseNumber()
	in.Properties, in.RawProperties = nil, nil
	if err := dec.Decode(&in.Properties); err != nil {
		return invalidf("invalid object: properties: %s", err.Error())
	}
	return nil
}

// failedResult is the result of an object of a batch that failed with
// err: the object as sent, with the batch's times, as Weaviate answers.
func failedResult(in *ObjectInput, err error, now int64) BatchResult {
	if in.GenerateID {
		in.ID, in.GenerateID = uuid.New(), false
	}
	echo, _ := json.Marshal(in.Properties) // best effort: echo what was sent
	if len(in.Properties) == 0 {
		echo = nil
	}
	return BatchResult{Object: &Object{Class: schema.NormalizeClassName(in.Class), Tenant: in.Tenant,
		Object: shard.Object{ID: in.ID, Properties: echo, Vector: in.Vector, Vectors: in.Vectors,
			CreationTimeUnix: now, LastUpdateTimeUnix: now}}, Err: err}
}

// putChunk stores objects; each shard's objects are written in one synced
// batch.
func (d *DB) putChunk(ctx context.Context, ins []*ObjectInput) ([]BatchResult, error) {
	results := make([]BatchResult, len(ins))
	for i, in := range ins {
		if err := in.DecodeProperties(); err != nil {
			if in.GenerateID {
				in.ID, in.GenerateID = uuid.New(), false
			}
			results[i] = BatchResult{Object: &Object{Class: schema.NormalizeClassName(in.Class), Tenant: in.Tenant,
				Object: shard.Object{ID: in.ID}}, Err: err}
		}
	}
	now := nowMillis()
	if err := d.ensureSchema(ins); err != nil {
		if KindOf(err) != KindInvalid {
			return nil, err
		}
		// Some object's schema change is refused: apply each object's on
		// its own, as Weaviate does, so that only the refused ones fail.
		for i, in := range ins {
			if results[i].Err != nil {
				continue
			}
			if err := d.ensureSchema([]*ObjectInput{in}); err != nil {
				if KindOf(err) != KindInvalid {
					return nil, err
				}
				results[i] = failedResult(in, err, now)
			}
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	type group struct {
		s    *shard.Shard
		idx  []int
		recs []*shard.Object
	}
	groups := map[*shard.Shard]*group{}
	var order []*group
	for i, in := range ins {
		if results[i].Err != nil {
			continue
		}
		col, s, rec, err := d.prepare(in, now)
		if err != nil {
			results[i] = failedResult(in, err, now)
			continue
		}
		results[i].Object = &Object{Class: col.rec.Class.Class, Tenant: in.Tenant, Object: *rec}
		g := groups[s]
		if g == nil {
			g = &group{s: s}
			groups[s] = g
			order = append(order, g)
		}
		g.idx = append(g.idx, i)
		g.recs = append(g.recs, rec)
	}
	for _, g := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		errs, err := g.s.Put(g.recs)
		if err != nil {
			return nil, err
		}
		for j, e := range errs {
			if e != nil {
				results[g.idx[j]].Err = mapShardErr(g.recs[j].ID, e)
			}
		}
	}
	return results, nil
}

// GetObject reads one object; KindNotFound if the class or object is missing.
func (d *DB) GetObject(ctx context.Context, class string, id uuid.UUID, tenant string, withVectors bool) (*Object, error) {
	if err := d.activateForRequest(class, tenant); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(class)
	if col == nil {
		return nil, classNotFound(schema.NormalizeClassName(class))
	}
	s, err := d.shardFor(col, tenant)
	if err != nil {
		return nil, err
	}
	o, err := s.Get(id, withVectors)
	if errors.Is(err, shard.ErrNotFound) {
		return nil, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("object %s not found", id), Err: ErrObjectNotFound}
	}
	if err != nil {
		return nil, err
	}
	return &Object{Class: col.rec.Class.Class, Tenant: tenant, Object: *o}, nil
}

// FindObject looks an id up in every class without multi-tenancy (or, with
// a tenant, in every multi-tenant class that has it). Used by the class-less
// legacy endpoints.
func (d *DB) FindObject(ctx context.Context, id uuid.UUID, tenant string, withVectors bool) (*Object, error) {
	for _, name := range d.ClassNames() {
		o, err := d.GetObject(ctx, name, id, tenant, withVectors)
		if err == nil {
			return o, nil
		}
	}
	return nil, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("object %s not found", id), Err: ErrObjectNotFound}
}

// ReplaceObject replaces an existing object (PUT): properties and vectors
// are replaced, creation time is kept.
func (d *DB) ReplaceObject(ctx context.Context, in *ObjectInput) (*Object, error) {
	return d.update(ctx, in, false)
}

// MergeObject merges properties into an existing object (PATCH); a given
// vector replaces the old one.
func (d *DB) MergeObject(ctx context.Context, in *ObjectInput) (*Object, error) {
	return d.update(ctx, in, true)
}

func (d *DB) update(ctx context.Context, in *ObjectInput, merge bool) (*Object, error) {
	if err := in.DecodeProperties(); err != nil {
		return nil, err
	}
	if err := d.ensureSchema([]*ObjectInput{in}); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(in.Class)
	if col == nil {
		return nil, classNotFound(schema.NormalizeClassName(in.Class))
	}
	s, err := d.shardFor(col, in.Tenant)
	if err != nil {
		return nil, err
	}
	// The shard serialises writers; a concurrent writer between this read
	// and the put is a last-writer-wins race, as in Weaviate.
	old, err := s.Get(in.ID, true)
	if errors.Is(err, shard.ErrNotFound) {
		return nil, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("object %s not found", in.ID), Err: ErrObjectNotFound}
	}
	if err != nil {
		return nil, err
	}
	if merge {
		// The legacy-vector rule applies to what was given, before it is
		// merged with the stored vectors.
		if err := legacyVectorToNamed(col.rec.Class, in); err != nil {
			return nil, err
		}
		if len(old.Properties) > 0 {
			prev := map[string]any{}
			dec := json.NewDecoder(bytes.NewReader(old.Properties))
			dec.UseNumber()
			if err := dec.Decode(&prev); err != nil {
				return nil, fmt.Errorf("decode stored properties: %w", err)
			}
			for k, v := range in.Properties {
				prev[schema.NormalizePropertyName(k)] = v
			}
			in.Properties = prev
		}
		if in.Vector == nil {
			in.Vector = old.Vector
		}
		if in.Vectors == nil {
			in.Vectors = old.Vectors
		}
	}
	_, _, rec, err := d.prepare(in, nowMillis())
	if err != nil {
		return nil, err
	}
	rec.CreationTimeUnix = old.CreationTimeUnix
	errs, err := s.Put([]*shard.Object{rec})
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, mapShardErr(rec.ID, errs[0])
	}
	return &Object{Class: col.rec.Class.Class, Tenant: in.Tenant, Object: *rec}, nil
}

// DeleteObject deletes an object; deleting a missing object is not an error.
func (d *DB) DeleteObject(ctx context.Context, class string, id uuid.UUID, tenant string) error {
	if err := d.activateForRequest(class, tenant); err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(class)
	if col == nil {
		return classNotFound(schema.NormalizeClassName(class))
	}
	s, err := d.shardFor(col, tenant)
	if err != nil {
		return err
	}
	_, err = s.Delete(id)
	return err
}

// ListParams select a page of objects.
type ListParams struct {
	Class       string // "" = every class without multi-tenancy
	Tenant      string
	Limit       int
	Offset      int
	After       *uuid.UUID // cursor: objects with id > After (requires Class)
	WithVectors bool
	Where       *filter.Clause // only matching objects (requires Class)
}

// ListObjects returns a page of objects in ascending id order.
func (d *DB) ListObjects(ctx context.Context, p ListParams) ([]*Object, error) {
	if err := d.activateForRequest(p.Class, p.Tenant); err != nil {
		return nil, err
	}
	if p.Where != nil {
		return d.listWhere(ctx, p)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var cols []*collection
	if p.Class != "" {
		col := d.lookup(p.Class)
		if col == nil {
			return nil, classNotFound(schema.NormalizeClassName(p.Class))
		}
		cols = append(cols, col)
	} else {
		for _, r := range d.records() {
			if r.Class.MultiTenant() == (p.Tenant != "") {
				cols = append(cols, d.classes[r.Class.Class])
			}
		}
	}
	out := make([]*Object, 0, min(p.Limit, 1024))
	skip := p.Offset
	for _, col := range cols {
		if len(out) >= p.Limit {
			break
		}
		if p.Tenant != "" && col.rec.Class.MultiTenant() {
			if _, ok := col.rec.Tenants[p.Tenant]; !ok && p.Class == "" {
				continue
			}
		}
		s, err := d.shardFor(col, p.Tenant)
		if err != nil {
			return nil, err
		}
		className := col.rec.Class.Class
		err = s.Scan(p.After, p.WithVectors, func(o *shard.Object) bool {
			if ctx.Err() != nil {
				return false
			}
			if skip > 0 {
				skip--
				return true
			}
			out = append(out, &Object{Class: className, Tenant: p.Tenant, Object: *o})
			return len(out) < p.Limit
		})
		if err != nil {
			return nil, err
		}
	}
	return out, ctx.Err()
}

// SearchParams describe a vector search (or, without Vector, a listing).
type SearchParams struct {
	Class       string // exact name
	Tenant      string
	Vector      []float32
	NearObject  *uuid.UUID // search with this object's vector (VectorName) instead
	VectorName  string
	MaxDistance *float32
	Limit       int
	Offset      int
	After       *uuid.UUID
	WithVectors bool
	Where       *filter.Clause // only matching objects
}

// SearchHit is one search result; Distance is nil for listings.
type SearchHit struct {
	Object   *Object
	Distance *float32
}

// Search runs a nearest-neighbour search (or, without a vector, a listing)
// in one class's shard.
func (d *DB) Search(ctx context.Context, p SearchParams) ([]SearchHit, error) {
	if err := d.activateForRequest(p.Class, p.Tenant); err != nil {
		return nil, err
	}
	if p.NearObject != nil {
		o, err := d.GetObject(ctx, p.Class, *p.NearObject, p.Tenant, true)
		if errors.Is(err, ErrObjectNotFound) {
			return nil, invalidf("nearObject: no object with id %s in class %s", p.NearObject, p.Class)
		}
		if err != nil {
			return nil, err
		}
		if p.Vector = o.Vector; p.VectorName != "" {
			p.Vector = o.Vectors[p.VectorName]
		}
		if p.Vector == nil {
			return nil, invalidf("nearObject: object %s has no vector to search with", p.NearObject)
		}
	}
	if p.Vector == nil {
		objs, err := d.ListObjects(ctx, ListParams{Class: p.Class, Tenant: p.Tenant, Limit: p.Limit,
			Offset: p.Offset, After: p.After, WithVectors: p.WithVectors, Where: p.Where})
		if err != nil {
			return nil, err
		}
		hits := make([]SearchHit, len(objs))
		for i, o := range objs {
			hits[i] = SearchHit{Object: o}
		}
		return hits, nil
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.classes[p.Class]
	if col == nil {
		return nil, classNotFound(p.Class)
	}
	s, err := d.shardFor(col, p.Tenant)
	if err != nil {
		return nil, err
	}
	var hits []shard.Hit
	if p.Where != nil {
		hits, err = d.searchWhere(ctx, col, s, p)
	} else {
		hits, err = s.Search(p.VectorName, p.Vector, p.Offset+p.Limit, p.MaxDistance)
	}
	if err != nil {
		var dim *vector.DimensionError
		if errors.As(err, &dim) {
			return nil, invalidf("vector search: %s", err.Error())
		}
		return nil, err
	}
	if p.Offset >= len(hits) {
		return nil, nil
	}
	hits = hits[p.Offset:]
	out := make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		o, err := s.Get(h.ID, p.WithVectors)
		if errors.Is(err, shard.ErrNotFound) {
			continue // deleted since the search
		}
		if err != nil {
			return nil, err
		}
		dist := h.Distance
		out = append(out, SearchHit{Object: &Object{Class: p.Class, Tenant: p.Tenant, Object: *o}, Distance: &dist})
	}
	return out, nil
}

// Count returns the number of objects of a class (for a tenant).
func (d *DB) Count(ctx context.Context, class, tenant string) (int64, error) {
	if err := d.activateForRequest(class, tenant); err != nil {
		return 0, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.classes[class]
	if col == nil {
		return 0, classNotFound(class)
	}
	s, err := d.shardFor(col, tenant)
	if err != nil {
		return 0, err
	}
	return int64(s.Count()), nil
}
