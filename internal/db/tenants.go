package db

import (
	"maps"
	"slices"
	"sort"

	"strata/internal/schema"
)

// Tenant is a tenant and its activity status (as returned: HOT, COLD, FROZEN).
type Tenant struct {
	Name           string `json:"name"`
	ActivityStatus string `json:"activityStatus,omitempty"`
}

// normalizeStatus maps input statuses to the stored legacy names.
func normalizeStatus(s string) (string, error) {
	switch s {
	case "", "ACTIVE", "HOT":
		return TenantHot, nil
	case "INACTIVE", "COLD":
		return TenantCold, nil
	case "OFFLOADED", "FROZEN":
		return "", invalidf("tenant status %s is not supported: offloading needs an offload module, which is not available", s)
	}
	return "", invalidf("invalid activity status '%s'", s)
}

func (d *DB) tenantClass(className, op string) (*collection, error) {
	col := d.lookup(className)
	if col == nil {
		return nil, invalidf("updating schema: %s: class not found", op)
	}
	if !col.rec.Class.MultiTenant() {
		return nil, invalidf("multi-tenancy is not enabled for class %q (enable it in the class's multiTenancyConfig)", col.rec.Class.Class)
	}
	return col, nil
}

// AddTenants creates tenants; existing ones are left as they are.
func (d *DB) AddTenants(className string, tenants []Tenant) error {
	return d.change(nil, func(p *plan) error {
		col, err := d.tenantClass(className, "TYPE_ADD_TENANT")
		if err != nil {
			return err
		}
		return planTenants(p, col.rec.Class.Class, tenants)
	})
}

// planTenants adds the tenants a class does not have yet to the plan. A
// tenant exists only once its shard does: the commit opens the shards of
// active ones first.
func planTenants(p *plan, class string, tenants []Tenant) error {
	cur := p.record(class).Tenants
	added := map[string]string{}
	for _, t := range tenants {
		if err := schema.ValidateTenantName(t.Name); err != nil {
			return invalidf("%s", err.Error())
		}
		st, err := normalizeStatus(t.ActivityStatus)
		if err != nil {
			return err
		}
		if _, exists := cur[t.Name]; exists {
			continue
		}
		if _, dup := added[t.Name]; !dup {
			added[t.Name] = st
		}
	}
	if len(added) == 0 {
		return nil
	}
	rec := p.edit(class)
	for _, name := range slices.Sorted(maps.Keys(added)) {
		rec.Tenants[name] = added[name]
		if p.d.clustered() {
			if rec.TenantNodes == nil {
				rec.TenantNodes = map[string]string{}
			}
			rec.TenantNodes[name] = leastLoaded(p.d.nodes(), rec.TenantNodes)
		}
	}
	return nil
}

// leastLoaded is the node holding the fewest tenants (the first in order
// among equals).
func leastLoaded(nodes []string, placed map[string]string) string {
	load := map[string]int{}
	for _, n := range placed {
		load[n]++
	}
	best := nodes[0]
	for _, n := range nodes[1:] {
		if load[n] < load[best] {
			best = n
		}
	}
	return best
}

// Tenants lists a class's tenants sorted by name.
func (d *DB) Tenants(className string) ([]Tenant, error) {
	d.sync()
	d.mu.RLock()
	defer d.mu.RUnlock()
	col, err := d.tenantClass(className, "TYPE_GET_TENANTS")
	if err != nil {
		return nil, err
	}
	out := make([]Tenant, 0, len(col.rec.Tenants))
	for name, st := range col.rec.Tenants {
		out = append(out, Tenant{Name: name, ActivityStatus: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GetTenant returns one tenant; KindNotFound if it does not exist.
func (d *DB) GetTenant(className, tenant string) (Tenant, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	col, err := d.tenantClass(className, "TYPE_GET_TENANTS")
	if err != nil {
		return Tenant{}, err
	}
	st, ok := col.rec.Tenants[tenant]
	if !ok {
		return Tenant{}, notFoundf("tenant %q not found", tenant)
	}
	return Tenant{Name: tenant, ActivityStatus: st}, nil
}

// UpdateTenants changes activity statuses; deactivating closes a tenant's
// shard, activating opens it. It returns the updated tenants.
func (d *DB) UpdateTenants(className string, tenants []Tenant) ([]Tenant, error) {
	names := make([]string, len(tenants))
	for i, t := range tenants {
		names[i] = t.Name
	}
	var out []Tenant
	err := d.change(func() []string { return d.shardDirsOf(d.lookup(className), names) }, func(p *plan) error {
		col, err := d.tenantClass(className, "TYPE_UPDATE_TENANT")
		if err != nil {
			return err
		}
		out, err = planTenantStatus(p, col.rec.Class.Class, tenants)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// planTenantStatus sets activity statuses in the plan; the commit opens
// the shards of activated tenants (all or none) and closes those of
// deactivated ones.
func planTenantStatus(p *plan, class string, tenants []Tenant) ([]Tenant, error) {
	cur := p.record(class).Tenants
	out := make([]Tenant, 0, len(tenants))
	for _, t := range tenants {
		if _, ok := cur[t.Name]; !ok {
			return nil, invalidf("tenant %q not found", t.Name)
		}
		if t.ActivityStatus == "" {
			return nil, invalidf("tenant %q: activityStatus is required", t.Name)
		}
		st, err := normalizeStatus(t.ActivityStatus)
		if err != nil {
			return nil, err
		}
		out = append(out, Tenant{Name: t.Name, ActivityStatus: st})
	}
	changed := slices.ContainsFunc(out, func(t Tenant) bool { return cur[t.Name] != t.ActivityStatus })
	if changed {
		rec := p.edit(class)
		for _, t := range out {
			rec.Tenants[t.Name] = t.ActivityStatus
		}
	}
	return out, nil
}

// DeleteTenants deletes tenants and their data; unknown names are ignored.
func (d *DB) DeleteTenants(className string, names []string) error {
	return d.change(func() []string { return d.shardDirsOf(d.lookup(className), names) }, func(p *plan) error {
		col, err := d.tenantClass(className, "TYPE_DELETE_TENANT")
		if err != nil {
			return err
		}
		var gone []string
		for _, n := range names {
			if _, ok := col.rec.Tenants[n]; ok {
				gone = append(gone, n)
			}
		}
		if len(gone) == 0 {
			return nil
		}
		rec := p.edit(col.rec.Class.Class)
		for _, n := range gone {
			delete(rec.Tenants, n)
			delete(rec.TenantNodes, n)
		}
		return nil
	})
}

// autoActivates tells whether a request for tenant activates it first: it
// is inactive and the class has autoTenantActivation. Caller holds d.mu.
func (c *collection) autoActivates(tenant string) bool {
	mt := c.rec.Class.MultiTenancyConfig
	if tenant == "" || mt == nil || !mt.Enabled || !mt.AutoTenantActivation {
		return false
	}
	st, ok := c.rec.Tenants[tenant]
	return ok && st == TenantCold
}

// activateForRequest activates an inactive tenant of a class with
// autoTenantActivation before a request reads or writes it, as Weaviate
// does; for any other request it does nothing.
func (d *DB) activateForRequest(class, tenant string) error {
	if tenant == "" {
		return nil
	}
	d.mu.RLock()
	col := d.lookup(class)
	need := col != nil && col.autoActivates(tenant)
	d.mu.RUnlock()
	if !need {
		return nil
	}
	_, err := d.UpdateTenants(class, []Tenant{{Name: tenant, ActivityStatus: TenantHot}})
	return err
}
