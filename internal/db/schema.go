package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"strata/internal/schema"
	"strata/internal/sharding"
)

// Classes returns copies of every class definition, sorted by name. Like
// every schema read, it sees every change the cluster acknowledged.
func (d *DB) Classes() []*schema.Class {
	d.sync()
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
	d.sync()
	d.mu.RLock()
	defer d.mu.RUnlock()
	c := d.lookup(name)
	if c == nil {
		return nil, classNotFound(schema.NormalizeClassName(name))
	}
	return c.rec.Class.Clone(), nil
}

// known tells whether a class exists; in a cluster a class missing here is
// looked for again once this node has every acknowledged change, so that a
// class created through another node is found.
func (d *DB) known(name string) bool {
	d.mu.RLock()
	found := d.lookup(name) != nil
	d.mu.RUnlock()
	if found || !d.clustered() {
		return found
	}
	d.sync()
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.lookup(name) != nil
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
	var out *schema.Class
	err := d.change(nil, func(p *plan) error {
		n, err := d.newClassLocked(c, d.knownClassLocked(schema.NormalizeClassName(c.Class)))
		if err != nil {
			return err
		}
		out = n
		return d.planNewClass(p, n)
	})
	if err != nil {
		return nil, err
	}
	return out.Clone(), nil
}

// planNewClass adds a class from newClassLocked to the plan, its shards
// placed on the nodes.
func (d *DB) planNewClass(p *plan, c *schema.Class) error {
	rec := &classRecord{Class: c}
	if c.MultiTenant() {
		rec.Tenants = map[string]string{}
	} else {
		count, virtualPer := c.Shards()
		st, err := sharding.New(count, virtualPer, d.nodes(), randomShardName)
		if err != nil {
			return invalidf("shardingConfig: %s", err.Error())
		}
		rec.Sharding = st
	}
	p.add(rec)
	return nil
}

// nodes lists the nodes new shards are placed on.
func (d *DB) nodes() []string {
	if d.opts.Nodes != nil {
		if n := d.opts.Nodes(); len(n) > 0 {
			return n
		}
	}
	return []string{d.opts.Node}
}

// knownClassLocked returns the predicate cross-reference validation uses;
// self is the class being defined (references to itself are allowed).
func (d *DB) knownClassLocked(self string) func(string) bool {
	return func(name string) bool { return name == self || d.classes[name] != nil }
}

// UpdateClass replaces a class definition with a complete new one. Only
// mutable settings may change.
func (d *DB) UpdateClass(name string, updated *schema.Class) (*schema.Class, error) {
	var out *schema.Class
	err := d.change(nil, func(p *plan) error {
		col := d.lookup(name)
		if col == nil {
			return classNotFound(schema.NormalizeClassName(name))
		}
		u := updated.Clone()
		u.Normalize()
		old := col.rec.Class
		if u.Class != old.Class {
			return invalidf("class name is immutable: attempted change from %q to %q", old.Class, u.Class)
		}
		if err := u.Validate(d.knownClassLocked(u.Class)); err != nil {
			return invalidf("%s", err.Error())
		}
		u.SetDefaults()
		if err := immutableChanges(old, u); err != nil {
			return err
		}
		p.edit(u.Class).Class = u
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.Clone(), nil
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
	return d.change(func() []string { return d.shardDirsOf(d.lookup(name), nil) }, func(p *plan) error {
		if col := d.lookup(name); col != nil {
			p.remove(col.rec.Class.Class)
		}
		return nil
	})
}

// AddProperty adds a property to a class.
func (d *DB) AddProperty(className string, prop *schema.Property) (*schema.Property, error) {
	var out *schema.Property
	err := d.change(nil, func(p *plan) error {
		col := d.lookup(className)
		if col == nil {
			return invalidf("could not find class %s", schema.NormalizeClassName(className))
		}
		var err error
		out, err = d.planProperties(p, col.rec.Class.Class, []*schema.Property{prop})
		return err
	})
	if err != nil || out == nil {
		return nil, err
	}
	cp := *out
	return &cp, nil
}

// planProperties validates new properties of an existing class and adds
// the extended class to the plan; it returns the first one (with
// defaults). Caller holds d.mu for writing.
func (d *DB) planProperties(p *plan, class string, props []*schema.Property) (*schema.Property, error) {
	u := p.record(class).Class.Clone()
	added := make([]*schema.Property, 0, len(props))
	for _, prop := range props {
		np := *prop
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
	if len(added) == 0 {
		return nil, nil
	}
	p.edit(class).Class = u
	return added[0], nil
}

// ShardInfo describes one shard for /v1/nodes and /v1/schema/{c}/shards.
type ShardInfo struct {
	Class       string
	Name        string
	Status      string // READY, or the tenant's status for inactive tenants
	ObjectCount int
	Loaded      bool
}

// Shards lists this node's shards of one class (all classes when class
// is "").
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
		for _, n := range d.localShards(col) {
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
