package db

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

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
	if d.clustered() && d.namesUnknownClass(ins) {
		d.sync() // created through another node a moment ago?
	}
	if !d.needsSchemaChange(ins) {
		return nil
	}
	return d.change(func() []string { return d.autoActivatedDirs(ins) }, func(p *plan) error {
		if d.opts.AutoSchema {
			if err := d.planAutoSchema(p, ins); err != nil {
				return err
			}
		}
		for _, in := range ins {
			name := schema.NormalizeClassName(in.Class)
			rec := p.record(name)
			if rec == nil || in.Tenant == "" {
				continue
			}
			mt := rec.Class.MultiTenancyConfig
			if mt == nil || !mt.Enabled {
				continue
			}
			st, exists := rec.Tenants[in.Tenant]
			switch {
			case !exists && mt.AutoTenantCreation && schema.ValidTenantName(in.Tenant):
				if err := planTenants(p, name, []Tenant{{Name: in.Tenant}}); err != nil {
					return err
				}
			case exists && st == TenantCold && mt.AutoTenantActivation:
				if _, err := planTenantStatus(p, name, []Tenant{{Name: in.Tenant, ActivityStatus: TenantHot}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
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

// planAutoSchema extends (or creates) the classes of ins with what their
// objects need. An object's additions are kept only when the object is
// valid against the extended class, so a write refused later (a value of
// the wrong type) adds nothing. Caller holds d.mu for writing.
func (d *DB) planAutoSchema(p *plan, ins []*ObjectInput) error {
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
		if d.classes[name] == nil {
			if err := d.planNewClass(p, changed[name]); err != nil {
				return err
			}
			continue
		}
		p.edit(name).Class = changed[name]
	}
	return nil
}

// namesUnknownClass tells whether an input names a class this node does
// not know.
func (d *DB) namesUnknownClass(ins []*ObjectInput) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, in := range ins {
		if d.lookup(in.Class) == nil {
			return true
		}
	}
	return false
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

// prepare validates one input and builds the record to store, with the
// shard it goes to. Caller holds d.mu.
func (d *DB) prepare(in *ObjectInput, now int64) (route, target, *shard.Object, error) {
	if in.GenerateID {
		in.ID, in.GenerateID = uuid.New(), false
	}
	if in.Class == "" {
		return route{}, target{}, nil, invalidf("invalid object: the given class is empty")
	}
	col := d.lookup(in.Class)
	if col == nil {
		return route{}, target{}, nil, invalidf("invalid object: class %q not found in schema", schema.NormalizeClassName(in.Class))
	}
	class := col.rec.Class
	r, err := d.routeLocked(col, in.Tenant)
	if err != nil {
		return route{}, target{}, nil, err
	}
	if in.Properties == nil {
		in.Properties = map[string]any{}
	}
	if err := class.ValidateProperties(in.Properties); err != nil {
		return route{}, target{}, nil, invalidf("invalid object: %s", err.Error())
	}
	if err := checkVectors(class, in); err != nil {
		return route{}, target{}, nil, err
	}
	var props json.RawMessage
	if len(in.Properties) > 0 {
		if props, err = json.Marshal(in.Properties); err != nil {
			return route{}, target{}, nil, invalidf("invalid object: properties: %s", err.Error())
		}
	}
	return r, r.forID(in.ID), &shard.Object{
		ID: in.ID, Properties: props, Vector: in.Vector, Vectors: in.Vectors,
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
	r, t, rec, err := d.prepare(in, nowMillis())
	d.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := d.on(r.class.Class, t, func(o ShardOps) error { return o.Insert(ctx, rec) }); err != nil {
		return nil, err
	}
	return &Object{Class: r.class.Class, Tenant: in.Tenant, Object: *rec}, nil
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
// batch, the shards concurrently.
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
	type group struct {
		class string
		t     target
		idx   []int
		recs  []*shard.Object
	}
	type groupKey struct {
		class string
		t     target
	}
	groups := map[groupKey]*group{}
	var order []*group
	d.mu.RLock()
	for i, in := range ins {
		if results[i].Err != nil {
			continue
		}
		r, t, rec, err := d.prepare(in, now)
		if err != nil {
			results[i] = failedResult(in, err, now)
			continue
		}
		results[i].Object = &Object{Class: r.class.Class, Tenant: in.Tenant, Object: *rec}
		k := groupKey{r.class.Class, t}
		g := groups[k]
		if g == nil {
			g = &group{class: r.class.Class, t: t}
			groups[k] = g
			order = append(order, g)
		}
		g.idx = append(g.idx, i)
		g.recs = append(g.recs, rec)
	}
	d.mu.RUnlock()
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	for _, g := range order {
		eg.Go(func() error {
			return d.on(g.class, g.t, func(o ShardOps) error {
				errs, err := o.Put(ctx, g.recs)
				if err != nil {
					return err
				}
				for j, e := range errs {
					results[g.idx[j]].Err = e
				}
				return nil
			})
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// notFound is the error of a missing object.
func notFound(id uuid.UUID) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("object %s not found", id), Err: ErrObjectNotFound}
}

// routeClass resolves the shards a request for a class and tenant reaches.
func (d *DB) routeClass(class, tenant string) (route, error) {
	d.known(class)
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(class)
	if col == nil {
		return route{}, classNotFound(schema.NormalizeClassName(class))
	}
	return d.routeLocked(col, tenant)
}

// GetObject reads one object; KindNotFound if the class or object is missing.
func (d *DB) GetObject(ctx context.Context, class string, id uuid.UUID, tenant string, withVectors bool) (*Object, error) {
	if err := d.activateForRequest(class, tenant); err != nil {
		return nil, err
	}
	r, err := d.routeClass(class, tenant)
	if err != nil {
		return nil, err
	}
	var o *shard.Object
	err = d.on(r.class.Class, r.forID(id), func(ops ShardOps) error {
		o, err = ops.Get(ctx, id, withVectors)
		return err
	})
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, notFound(id)
	}
	return &Object{Class: r.class.Class, Tenant: tenant, Object: *o}, nil
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
	return nil, notFound(id)
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
	r, err := d.routeClass(in.Class, in.Tenant)
	if err != nil {
		return nil, err
	}
	// The shard serialises writers; a concurrent writer between this read
	// and the put is a last-writer-wins race, as in Weaviate.
	var old *shard.Object
	err = d.on(r.class.Class, r.forID(in.ID), func(ops ShardOps) error {
		old, err = ops.Get(ctx, in.ID, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, notFound(in.ID)
	}
	if merge {
		// The legacy-vector rule applies to what was given, before it is
		// merged with the stored vectors.
		if err := legacyVectorToNamed(r.class, in); err != nil {
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
	d.mu.RLock()
	r, t, rec, err := d.prepare(in, nowMillis())
	d.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	rec.CreationTimeUnix = old.CreationTimeUnix
	err = d.on(r.class.Class, t, func(ops ShardOps) error {
		errs, err := ops.Put(ctx, []*shard.Object{rec})
		if err != nil {
			return err
		}
		return errs[0]
	})
	if err != nil {
		return nil, err
	}
	return &Object{Class: r.class.Class, Tenant: in.Tenant, Object: *rec}, nil
}

// DeleteObject deletes an object; deleting a missing object is not an error.
func (d *DB) DeleteObject(ctx context.Context, class string, id uuid.UUID, tenant string) error {
	if err := d.activateForRequest(class, tenant); err != nil {
		return err
	}
	r, err := d.routeClass(class, tenant)
	if err != nil {
		return err
	}
	return d.on(r.class.Class, r.forID(id), func(ops ShardOps) error { return ops.Delete(ctx, []uuid.UUID{id}) })
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

const whereInvalid = "invalid 'where' filter"

// checkWhere validates a where filter against the class a request routes to.
func checkWhere(r route, where *filter.Clause, prefix string) error {
	if where == nil {
		return nil
	}
	if err := filter.Validate(where, r.class); err != nil {
		return invalidf("%s: %s", prefix, err.Error())
	}
	return nil
}

// ListObjects returns a page of objects in ascending id order.
func (d *DB) ListObjects(ctx context.Context, p ListParams) ([]*Object, error) {
	if err := d.activateForRequest(p.Class, p.Tenant); err != nil {
		return nil, err
	}
	var routes []route
	if p.Class != "" {
		r, err := d.routeClass(p.Class, p.Tenant)
		if err != nil {
			return nil, err
		}
		if err := checkWhere(r, p.Where, whereInvalid); err != nil {
			return nil, err
		}
		routes = append(routes, r)
	} else {
		if p.Where != nil {
			return nil, invalidf("%s: a class is required to filter objects", whereInvalid)
		}
		var err error
		if routes, err = d.routesWithTenant(p.Tenant); err != nil {
			return nil, err
		}
	}
	out := make([]*Object, 0, min(p.Limit, 1024))
	skip := p.Offset
	for _, r := range routes {
		if len(out) >= p.Limit {
			break
		}
		hits, err := d.find(ctx, r, ShardQuery{After: p.After, Where: p.Where, Limit: skip + p.Limit - len(out), WithVectors: p.WithVectors})
		if err != nil {
			return nil, err
		}
		n := min(skip, len(hits))
		skip -= n
		for _, h := range hits[n:] {
			out = append(out, &Object{Class: r.class.Class, Tenant: p.Tenant, Object: *h.Object})
		}
	}
	return out, ctx.Err()
}

// routesWithTenant routes a class-less listing: every class without
// multi-tenancy, or with a tenant, every multi-tenant class that has it.
func (d *DB) routesWithTenant(tenant string) ([]route, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []route
	for _, rec := range d.records() {
		if rec.Class.MultiTenant() != (tenant != "") {
			continue
		}
		col := d.classes[rec.Class.Class]
		if tenant != "" {
			if _, ok := col.rec.Tenants[tenant]; !ok {
				continue
			}
		}
		r, err := d.routeLocked(col, tenant)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// find runs q on every shard of r and merges the results: by distance for
// a search, by id for a listing; at most q.Limit come back.
func (d *DB) find(ctx context.Context, r route, q ShardQuery) ([]ShardHit, error) {
	parts := make([][]ShardHit, len(r.targets))
	err := d.onEach(ctx, r.class.Class, r.targets, func(i int, ops ShardOps) error {
		var err error
		parts[i], err = ops.Find(ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	var all []ShardHit
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.SortStableFunc(all, func(a, b ShardHit) int {
		if q.Vector != nil {
			if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
				return c
			}
		}
		return compareIDs(a.Object.ID, b.Object.ID)
	})
	if len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return all, nil
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
// over every shard of one class (or the tenant's shard).
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
	r, err := d.routeClass(p.Class, p.Tenant)
	if err != nil {
		return nil, err
	}
	if err := checkWhere(r, p.Where, whereInvalid); err != nil {
		return nil, err
	}
	hits, err := d.find(ctx, r, ShardQuery{Vector: p.Vector, VectorName: p.VectorName, MaxDistance: p.MaxDistance,
		Where: p.Where, Limit: p.Offset + p.Limit, WithVectors: p.WithVectors})
	if err != nil {
		return nil, err
	}
	if p.Offset >= len(hits) {
		return nil, nil
	}
	hits = hits[p.Offset:]
	out := make([]SearchHit, len(hits))
	for i, h := range hits {
		dist := h.Distance
		out[i] = SearchHit{Object: &Object{Class: r.class.Class, Tenant: p.Tenant, Object: *h.Object}, Distance: &dist}
	}
	return out, nil
}

// Count returns the number of objects of a class (for a tenant).
func (d *DB) Count(ctx context.Context, class, tenant string) (int64, error) {
	return d.CountWhere(ctx, class, tenant, nil)
}
