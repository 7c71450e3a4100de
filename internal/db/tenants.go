package db

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"strata/internal/schema"
	"strata/internal/shard"
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
	d.mu.Lock()
	defer d.mu.Unlock()
	col, err := d.tenantClass(className, "TYPE_ADD_TENANT")
	if err != nil {
		return err
	}
	return d.addTenantsLocked(col, tenants)
}

func (d *DB) addTenantsLocked(col *collection, tenants []Tenant) error {
	next := map[string]string{}
	for k, v := range col.rec.Tenants {
		next[k] = v
	}
	var added []string
	for _, t := range tenants {
		if err := schema.ValidateTenantName(t.Name); err != nil {
			return invalidf("%s", err.Error())
		}
		st, err := normalizeStatus(t.ActivityStatus)
		if err != nil {
			return err
		}
		if _, exists := next[t.Name]; exists {
			continue
		}
		next[t.Name] = st
		added = append(added, t.Name)
	}
	if len(added) == 0 {
		return nil
	}
	var hot []string
	for _, name := range added {
		if next[name] == TenantHot {
			hot = append(hot, name)
		}
	}
	// Open the new shards first: a tenant exists only once its shard does.
	if err := d.openTenantShards(col, hot); err != nil {
		d.removeTenantShards(col, hot)
		return err
	}
	rec := *col.rec
	rec.Tenants = next
	if err := d.persist(&rec, ""); err != nil {
		d.removeTenantShards(col, hot)
		return err
	}
	col.rec = &rec
	return nil
}

// openTenantShards opens the shards of tenants being activated or created,
// all or none: it fails before opening any if they would pass the limit of
// active shards, and closes those it opened if one fails.
func (d *DB) openTenantShards(col *collection, names []string) error {
	if err := d.shards.room(len(names)); err != nil {
		return err
	}
	for i, name := range names {
		if _, err := d.openShard(col, name); err != nil {
			d.closeShards(col, names[:i])
			return err
		}
	}
	return nil
}

// removeTenantShards closes and deletes the shards of tenants whose
// creation failed.
func (d *DB) removeTenantShards(col *collection, names []string) {
	d.closeShards(col, names)
	for _, name := range names {
		os.RemoveAll(d.shardDir(col.rec.Class.Class, name))
	}
}

// Tenants lists a class's tenants sorted by name.
func (d *DB) Tenants(className string) ([]Tenant, error) {
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
	d.lockUnpinned(func() []string { return d.shardDirsOf(d.lookup(className), names) })
	defer d.mu.Unlock()
	col, err := d.tenantClass(className, "TYPE_UPDATE_TENANT")
	if err != nil {
		return nil, err
	}
	return d.updateTenantsLocked(col, tenants)
}

// updateTenantsLocked changes activity statuses. Caller holds d.mu for
// writing, with no snapshot copying the shards of the tenants named.
func (d *DB) updateTenantsLocked(col *collection, tenants []Tenant) ([]Tenant, error) {
	next := map[string]string{}
	for k, v := range col.rec.Tenants {
		next[k] = v
	}
	out := make([]Tenant, 0, len(tenants))
	for _, t := range tenants {
		if _, ok := next[t.Name]; !ok {
			return nil, invalidf("tenant %q not found", t.Name)
		}
		if t.ActivityStatus == "" {
			return nil, invalidf("tenant %q: activityStatus is required", t.Name)
		}
		st, err := normalizeStatus(t.ActivityStatus)
		if err != nil {
			return nil, err
		}
		next[t.Name] = st
		out = append(out, Tenant{Name: t.Name, ActivityStatus: st})
	}
	var activate, deactivate []string
	for _, t := range out {
		open := col.shards[t.Name] != nil
		switch {
		case t.ActivityStatus == TenantHot && !open && !slices.Contains(activate, t.Name):
			activate = append(activate, t.Name)
		case t.ActivityStatus != TenantHot && open:
			deactivate = append(deactivate, t.Name)
		}
	}
	// Activate first, all or none, so that a refused or failed update
	// changes nothing.
	if err := d.openTenantShards(col, activate); err != nil {
		return nil, err
	}
	rec := *col.rec
	rec.Tenants = next
	if err := d.persist(&rec, ""); err != nil {
		d.closeShards(col, activate)
		return nil, err
	}
	col.rec = &rec
	var errs []error
	for _, name := range deactivate {
		errs = append(errs, d.closeShard(col, name))
	}
	return out, errors.Join(errs...)
}

// DeleteTenants deletes tenants and their data; unknown names are ignored.
func (d *DB) DeleteTenants(className string, names []string) error {
	d.lockUnpinned(func() []string { return d.shardDirsOf(d.lookup(className), names) })
	defer d.mu.Unlock()
	col, err := d.tenantClass(className, "TYPE_DELETE_TENANT")
	if err != nil {
		return err
	}
	next := map[string]string{}
	for k, v := range col.rec.Tenants {
		next[k] = v
	}
	var gone []string
	for _, n := range names {
		if _, ok := next[n]; ok {
			delete(next, n)
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	rec := *col.rec
	rec.Tenants = next
	if err := d.persist(&rec, ""); err != nil {
		return err
	}
	col.rec = &rec
	var errs []error
	for _, n := range gone {
		errs = append(errs, d.closeShard(col, n))
		errs = append(errs, os.RemoveAll(d.shardDir(col.rec.Class.Class, n)))
	}
	return errors.Join(errs...)
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

// shardFor resolves the shard a request addresses. Caller holds d.mu.
func (d *DB) shardFor(col *collection, tenant string) (*shard.Shard, error) {
	class := col.rec.Class
	if !class.MultiTenant() {
		if tenant != "" {
			return nil, invalidf("class %s has multi-tenancy disabled, but request was with tenant", class.Class)
		}
		s := col.shards[col.rec.Shard]
		if s == nil {
			return nil, fmt.Errorf("shard %s of class %s is not open", col.rec.Shard, class.Class)
		}
		return s, nil
	}
	if tenant == "" {
		return nil, mtWithoutTenant(class.Class)
	}
	st, ok := col.rec.Tenants[tenant]
	if !ok {
		return nil, invalidf("tenant not found: %q", tenant)
	}
	if st != TenantHot {
		return nil, invalidf("tenant not active: '%s'", tenant)
	}
	s := col.shards[tenant]
	if s == nil {
		return nil, fmt.Errorf("shard of tenant %s is not open", tenant)
	}
	return s, nil
}
