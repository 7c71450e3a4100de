package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"

	"strata/internal/schema"
	"strata/internal/shard"
)

// Classes returns copies of every class definition, sorted by name.
func (d *DB) Classes() []*schema.Class {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]*schema.Class, 0, len(d.classes))
	for _, r := range d.records() {
		out = append(out, r.Class.Clone())
	}
	return out
}

// GetClass returns a copy of a class definition (name normalised).
func (d *DB) GetClass(name string) (*schema.Class, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c := d.lookup(name)
	if c == nil {
		return nil, classNotFound(schema.NormalizeClassName(name))
	}
	return c.rec.Class.Clone(), nil
}

// Class returns the class with exactly this name, or nil. The result must not be modified.
func (d *DB) Class(name string) *schema.Class {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if c := d.classes[name]; c != nil {
		return c.rec.Class
	}
	return nil
}

// CreateClass validates c, fills defaults and persists it.
func (d *DB) CreateClass(c *schema.Class) (*schema.Class, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.createClassLocked(c)
}

func (d *DB) createClassLocked(c *schema.Class) (*schema.Class, error) {
	c, err := d.newClassLocked(c, d.knownClassLocked(schema.NormalizeClassName(c.Class)))
	if err != nil {
		return nil, err
	}
	if err := d.installClassLocked(c); err != nil {
		return nil, err
	}
	return c.Clone(), nil
}

// installClassLocked persists a class from newClassLocked and opens it.
func (d *DB) installClassLocked(c *schema.Class) error {
	rec := &classRecord{Class: c}
	if c.MultiTenant() {
		rec.Tenants = map[string]string{}
	} else {
		rec.Shard = randomShardName()
	}
	col := &collection{rec: rec, shards: map[string]*shard.Shard{}}
	if !c.MultiTenant() {
		if _, err := d.openShard(col, rec.Shard); err != nil {
			return err
		}
	}
	if err := d.persist(rec, ""); err != nil {
		d.closeShard(col, rec.Shard)
		os.RemoveAll(d.classDir(c.Class))
		return err
	}
	d.classes[c.Class] = col
	return nil
}

// knownClassLocked returns the predicate cross-reference validation uses;
// self is the class being defined (references to itself are allowed).
func (d *DB) knownClassLocked(self string) func(string) bool {
	return func(name string) bool { return name == self || d.classes[name] != nil }
}

// UpdateClass replaces a class definition with a complete new one. Only
// mutable settings may change.
func (d *DB) UpdateClass(name string, updated *schema.Class) (*schema.Class, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	col := d.lookup(name)
	if col == nil {
		return nil, classNotFound(schema.NormalizeClassName(name))
	}
	u := updated.Clone()
	u.Normalize()
	old := col.rec.Class
	if u.Class != old.Class {
		return nil, invalidf("class name is immutable: attempted change from %q to %q", old.Class, u.Class)
	}
	if err := u.Validate(d.knownClassLocked(u.Class)); err != nil {
		return nil, invalidf("%s", err.Error())
	}
	u.SetDefaults()
	if err := immutableChanges(old, u); err != nil {
		return nil, err
	}
	rec := *col.rec
	rec.Class = u
	if err := d.persist(&rec, ""); err != nil {
		return nil, err
	}
	col.rec = &rec
	d.updateInverted(col)
	d.updateVectorIndexes(col)
	return u.Clone(), nil
}

func immutableChanges(old, u *schema.Class) error {
	if !jsonEqual(old.Properties, u.Properties) {
		return invalidf("properties cannot be updated through updating the class. Use the add property feature (e.g. \"POST /v1/schema/{className}/properties\") to add additional properties")
	}
	if old.VectorIndexType != u.VectorIndexType {
		return invalidf("vector index type is immutable: attempted change from %q to %q", old.VectorIndexType, u.VectorIndexType)
	}
	if old.Vectorizer != u.Vectorizer {
		return invalidf("vectorizer is immutable: attempted change from %q to %q", old.Vectorizer, u.Vectorizer)
	}
	if old.Distance("") != u.Distance("") {
		return invalidf("vector index config: distance is immutable: attempted change from %q to %q", old.Distance(""), u.Distance(""))
	}
	if len(old.VectorConfig) != len(u.VectorConfig) {
		return invalidf("named vectors cannot be added or removed by updating the class")
	}
	for name, ov := range old.VectorConfig {
		nv, ok := u.VectorConfig[name]
		if !ok {
			return invalidf("named vector %q cannot be removed", name)
		}
		if ov.VectorIndexType != nv.VectorIndexType || old.Distance(name) != u.Distance(name) {
			return invalidf("named vector %q: vector index type and distance are immutable", name)
		}
	}
	for _, name := range append([]string{""}, slices.Sorted(maps.Keys(old.VectorConfig))...) {
		ot, oc := old.VectorIndex(name)
		_, nc := u.VectorIndex(name)
		if ot == "dynamic" {
			oc, nc = dynamicHNSWConfig(oc), dynamicHNSWConfig(nc)
		}
		for _, key := range []string{"maxConnections", "efConstruction"} {
			if !jsonEqual(oc[key], nc[key]) {
				return invalidf("vector index config: %s is immutable: attempted change from %v to %v", key, oc[key], nc[key])
			}
		}
	}
	if old.MultiTenant() != u.MultiTenant() {
		return invalidf("enabling or disabling multi-tenancy of an existing class is not supported")
	}
	if !jsonEqual(old.ShardingConfig, u.ShardingConfig) {
		return invalidf("sharding config is immutable")
	}
	return nil
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	var av, bv any
	_ = json.Unmarshal(ab, &av)
	_ = json.Unmarshal(bb, &bv)
	return reflect.DeepEqual(av, bv)
}

// DeleteClass deletes a class and all its data. Unknown classes are a no-op.
func (d *DB) DeleteClass(name string) error {
	d.lockUnpinned(func() []string { return d.shardDirsOf(d.lookup(name), nil) })
	defer d.mu.Unlock()
	col := d.lookup(name)
	if col == nil {
		return nil
	}
	className := col.rec.Class.Class
	if err := d.persist(nil, className); err != nil {
		return err
	}
	delete(d.classes, className)
	var errs []error
	for n := range col.shards {
		errs = append(errs, d.closeShard(col, n))
	}
	errs = append(errs, os.RemoveAll(d.classDir(className)))
	return errors.Join(errs...)
}

// AddProperty adds a property to a class.
func (d *DB) AddProperty(className string, p *schema.Property) (*schema.Property, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	col := d.lookup(className)
	if col == nil {
		return nil, invalidf("could not find class %s", schema.NormalizeClassName(className))
	}
	return d.addPropertiesLocked(col, []*schema.Property{p})
}

// addPropertiesLocked validates and persists new properties; it returns the
// first one (with defaults). Caller holds d.mu for writing.
func (d *DB) addPropertiesLocked(col *collection, props []*schema.Property) (*schema.Property, error) {
	u := col.rec.Class.Clone()
	added := make([]*schema.Property, 0, len(props))
	for _, p := range props {
		np := *p
		np.Name = schema.NormalizePropertyName(np.Name)
		if u.Property(np.Name) != nil {
			return nil, invalidf("class %q: conflict for property %q: already in use or provided multiple times", u.Class, np.Name)
		}
		u.Properties = append(u.Properties, &np)
		added = append(added, &np)
	}
	// Validate the properties as given: their defaults would hide the
	// legacy settings Weaviate refuses.
	if err := u.Validate(d.knownClassLocked(u.Class)); err != nil {
		return nil, invalidf("%s", err.Error())
	}
	for _, np := range added {
		np.SetDefaults()
	}
	if err := d.replaceClassLocked(col, u); err != nil {
		return nil, err
	}
	if len(added) == 0 {
		return nil, nil
	}
	cp := *added[0]
	return &cp, nil
}

// replaceClassLocked persists a validated new definition of an existing
// class with new properties and adopts it. Caller holds d.mu for writing.
func (d *DB) replaceClassLocked(col *collection, u *schema.Class) error {
	rec := *col.rec
	rec.Class = u
	if err := d.persist(&rec, ""); err != nil {
		return err
	}
	col.rec = &rec
	d.updateInverted(col)
	return nil
}

// ShardInfo describes one shard for /v1/nodes and /v1/schema/{c}/shards.
type ShardInfo struct {
	Class       string
	Name        string
	Status      string // READY, or the tenant's status for inactive tenants
	ObjectCount int
	Loaded      bool
}

// Shards lists the shards of one class (all classes when class is "").
func (d *DB) Shards(class string) ([]ShardInfo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var cols []*collection
	if class != "" {
		col := d.lookup(class)
		if col == nil {
			return nil, classNotFound(schema.NormalizeClassName(class))
		}
		cols = append(cols, col)
	} else {
		for _, r := range d.records() {
			cols = append(cols, d.classes[r.Class.Class])
		}
	}
	var out []ShardInfo
	for _, col := range cols {
		names := []string{col.rec.Shard}
		if col.rec.Class.MultiTenant() {
			names = names[:0]
			for t := range col.rec.Tenants {
				names = append(names, t)
			}
			sort.Strings(names)
		}
		for _, n := range names {
			info := ShardInfo{Class: col.rec.Class.Class, Name: n, Status: "READY"}
			if s := col.shards[n]; s != nil {
				info.Loaded = true
				info.ObjectCount = s.Count()
			} else {
				info.Status = col.rec.Tenants[n]
			}
			out = append(out, info)
		}
	}
	return out, nil
}

var errNoTenant = errors.New("tenant required")

func mtWithoutTenant(class string) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("class %s has multi-tenancy enabled, but request was without tenant", class), Err: errNoTenant}
}
