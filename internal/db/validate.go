package db

import (
	"fmt"
	"strings"

	"strata/internal/schema"
)

// newClassLocked is the one admission check of a new class, whether it is
// created through the API (or auto-schema) or installed from a backup. It
// returns c normalised and with Weaviate's defaults filled in, or an error
// if the definition is invalid (schema.Class.Validate; known resolves the
// classes cross-references may point to) or its name is taken. c is not
// modified. Caller holds d.mu.
func (d *DB) newClassLocked(c *schema.Class, known func(string) bool) (*schema.Class, error) {
	n := c.Clone()
	n.Normalize()
	if err := n.Validate(known); err != nil {
		return nil, invalidf("%s", err.Error())
	}
	if err := d.nameFreeLocked(n.Class); err != nil {
		return nil, err
	}
	n.SetShardCount(len(d.nodes()))
	n.SetDefaults()
	return n, nil
}

// nameFreeLocked reports whether a new class may take name: no class has
// it, none is being restored under it, and neither differs from it only in
// case (Weaviate's "similar class" rule). Caller holds d.mu.
func (d *DB) nameFreeLocked(name string) error {
	if d.classes[name] != nil {
		return invalidf("class name %s already exists", name)
	}
	if d.reserved[name] {
		return invalidf("class name %s already exists: it is being restored from a backup", name)
	}
	if similar := d.similarClass(name); similar != "" {
		if d.reserved[similar] {
			return invalidf("class name %q already exists as a similar class %q: it is being restored from a backup", name, similar)
		}
		return invalidf("class name %q already exists as a similar class %q", name, similar)
	}
	return nil
}

// CheckInstall reports whether InstallClasses would accept classes now,
// without installing anything: a restore calls it before it transfers any
// data.
func (d *DB) CheckInstall(classes []RestoredClass) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, err := d.admitRestoredLocked(classes)
	return err
}

// admitRestoredLocked checks restored classes as creates of them would be
// checked — together: cross-references between them resolve, and two of
// them may not share a name up to case — and checks that each one's shards
// fit it (see checkShards). It returns the definitions to install (with
// defaults). Caller holds d.mu.
func (d *DB) admitRestoredLocked(classes []RestoredClass) ([]*schema.Class, error) {
	batch := map[string]bool{}
	for _, rc := range classes {
		batch[rc.Class.Class] = true
	}
	known := func(name string) bool { return batch[name] || d.classes[name] != nil }
	out := make([]*schema.Class, len(classes))
	seen := map[string]string{} // lower-case name → name
	for i, rc := range classes {
		name := rc.Class.Class
		c, err := d.newClassLocked(rc.Class, known)
		if err != nil {
			return nil, fmt.Errorf("class %q: %w", name, err)
		}
		if err := renamedBy(rc.Class, c); err != nil {
			return nil, fmt.Errorf("class %q: %w", name, err)
		}
		lower := strings.ToLower(name)
		if other, dup := seen[lower]; dup {
			return nil, invalidf("class %q: class name %q is restored twice (as %q too)", name, name, other)
		}
		seen[lower] = name
		if err := checkShards(rc, c); err != nil {
			return nil, fmt.Errorf("class %q: %w", name, err)
		}
		// Install the definition as stored, with a create's defaults: its
		// nested property names may differ from c's (see renamedBy).
		out[i] = rc.Class.Clone()
		out[i].SetDefaults()
	}
	if err := d.shards.room(d.activeShards(classes)); err != nil {
		return nil, err
	}
	return out, nil
}

// activeShards counts the shards a restore opens here: each class's
// shards on this node, or its active tenants'.
func (d *DB) activeShards(classes []RestoredClass) int {
	n := 0
	for _, rc := range classes {
		if !rc.Class.MultiTenant() {
			for _, sh := range rc.Sharding.Shards {
				if d.isLocal(sh.Nodes) {
					n++
				}
			}
			continue
		}
		for _, st := range rc.Tenants {
			if st == TenantHot {
				n++
			}
		}
	}
	return n
}

// renamedBy reports a name of orig that normalisation changed in norm: a
// create stores class and (top-level) property names normalised, so a
// definition with any other is not one a create could have made, and its
// data would not be found under it. Nested property names are stored as
// given (auto-schema keeps them), so they are not compared.
func renamedBy(orig, norm *schema.Class) error {
	if orig.Class != norm.Class {
		return invalidf("class name %q is not in normal form (%q)", orig.Class, norm.Class)
	}
	for i, p := range orig.Properties {
		if p != nil && p.Name != norm.Properties[i].Name {
			return invalidf("property name %q is not in normal form (%q)", p.Name, norm.Properties[i].Name)
		}
	}
	return nil
}

// checkShards reports a restored class whose shards do not match its
// definition c: a valid sharding state with as many shards as
// shardingConfig asks for, for a class without multi-tenancy; a tenant map
// for one with; and nothing else.
func checkShards(rc RestoredClass, c *schema.Class) error {
	if c.MultiTenant() {
		if rc.Sharding != nil {
			return invalidf("multi-tenant class with a sharding state of %d shards", len(rc.Sharding.Shards))
		}
		for t, status := range rc.Tenants {
			if !schema.ValidTenantName(t) {
				return invalidf("invalid tenant name %q", t)
			}
			if status != TenantHot && status != TenantCold {
				return invalidf("tenant %q has status %q, want %s or %s", t, status, TenantHot, TenantCold)
			}
		}
		return nil
	}
	if len(rc.Tenants) > 0 {
		return invalidf("class without multi-tenancy has tenants")
	}
	if rc.Sharding == nil {
		return invalidf("class without multi-tenancy has no shards")
	}
	if err := rc.Sharding.Validate(); err != nil {
		return invalidf("%s", err.Error())
	}
	for _, sh := range rc.Sharding.Shards {
		if !schema.ValidTenantName(sh.Name) {
			return invalidf("invalid shard name %q", sh.Name)
		}
		if len(sh.Nodes) == 0 {
			return invalidf("shard %q is placed on no node", sh.Name)
		}
	}
	if want, _ := rc.Class.Shards(); want != len(rc.Sharding.Shards) {
		return invalidf("shardingConfig.desiredCount is %d but the class has %d shards", want, len(rc.Sharding.Shards))
	}
	return nil
}
