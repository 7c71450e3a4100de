package db

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"strata/internal/filter"
	"strata/internal/schema"
	"strata/internal/shard"
	"strata/internal/sharding"
)

// A request reaches a class's objects in two steps. Under the lock it is
// validated and routed: the class's definition and the physical shards it
// touches (target) are resolved from the schema. Then, without the lock,
// it runs on each target through ShardOps — on this node's store, or on
// another node's through Remote — and the results are merged here. So the
// database lock is never held across another node's answer, and one
// routing layer serves every request whether a class has one shard or
// many, on one node or several.

// ShardOps are the operations a request runs on one physical shard. Errors
// are the database's (*Error with a Kind), so they read the same whether
// the shard is on this node or on another.
type ShardOps interface {
	// Insert stores a new object; an existing id is an invalid request.
	Insert(ctx context.Context, o *shard.Object) error
	// Put upserts objects in one synced write; the slice holds each
	// object's own failure.
	Put(ctx context.Context, objs []*shard.Object) ([]error, error)
	// Get returns the object with id, or nil when the shard has none.
	Get(ctx context.Context, id uuid.UUID, withVectors bool) (*shard.Object, error)
	// Delete deletes the objects with these ids (missing ones are no error).
	Delete(ctx context.Context, ids []uuid.UUID) error
	// Find searches the shard (with q.Vector) or lists it in id order.
	Find(ctx context.Context, q ShardQuery) ([]ShardHit, error)
	// Count counts the objects matching where (all of them for nil).
	Count(ctx context.Context, where *filter.Clause) (int64, error)
	// Match lists the ids matching where in ascending order, at most limit.
	Match(ctx context.Context, where *filter.Clause, limit int) ([]uuid.UUID, error)
}

// ShardQuery is a search or a listing of one shard.
type ShardQuery struct {
	Vector      []float32 // nil: list in id order
	VectorName  string
	MaxDistance *float32
	Where       *filter.Clause // only matching objects (validated by the caller)
	After       *uuid.UUID     // listing: only ids above
	Limit       int            // at most this many (the k of a search)
	WithVectors bool
}

// ShardHit is one object a Find returns; Distance is set by searches.
type ShardHit struct {
	Object   *shard.Object
	Distance float32
}

// Remote reaches the shards other nodes hold (cluster mode).
type Remote interface {
	Shard(node, class, shard string) ShardOps
}

// target is one physical shard a request reaches; node is "" for a shard
// of this node.
type target struct {
	node, shard string
}

// route is a request resolved against the schema: the class (shared, not
// to be modified), the tenant, and the shards it may reach.
type route struct {
	class   *schema.Class
	tenant  string
	state   *sharding.State // classes without multi-tenancy
	targets []target        // every shard the class (or tenant) has
}

// forID is the shard that holds the object with id.
func (r route) forID(id uuid.UUID) target {
	if r.state == nil {
		return r.targets[0]
	}
	return r.targets[r.state.ShardOf(id)]
}

// routeLocked resolves the shards a request for tenant reaches, checking
// the tenant as Weaviate does. Caller holds d.mu.
func (d *DB) routeLocked(col *collection, tenant string) (route, error) {
	class := col.rec.Class
	r := route{class: class, tenant: tenant}
	if !class.MultiTenant() {
		if tenant != "" {
			return route{}, invalidf("class %s has multi-tenancy disabled, but request was with tenant", class.Class)
		}
		r.state = col.rec.Sharding
		r.targets = make([]target, len(r.state.Shards))
		for i, sh := range r.state.Shards {
			r.targets[i] = target{node: d.remoteNode(sh.Nodes), shard: sh.Name}
		}
		return r, nil
	}
	if tenant == "" {
		return route{}, mtWithoutTenant(class.Class)
	}
	st, ok := col.rec.Tenants[tenant]
	if !ok {
		return route{}, invalidf("tenant not found: %q", tenant)
	}
	if st != TenantHot {
		return route{}, invalidf("tenant not active: '%s'", tenant)
	}
	r.targets = []target{{node: d.remoteNode(col.rec.tenantNodes(tenant)), shard: tenant}}
	return r, nil
}

// remoteNode returns the node to reach a shard held by nodes at: "" when
// this node holds it (or the database runs alone, or nodes is empty).
func (d *DB) remoteNode(nodes []string) string {
	if !d.clustered() || len(nodes) == 0 || slices.Contains(nodes, d.opts.Node) {
		return ""
	}
	return nodes[0]
}

// clustered tells whether the database is one node of a cluster.
func (d *DB) clustered() bool { return d.opts.Log != nil }

// isLocal tells whether a shard held by nodes is on this node.
func (d *DB) isLocal(nodes []string) bool { return d.remoteNode(nodes) == "" }

// on runs fn on one shard of class: this node's store under a read lock,
// or another node's through Remote without any lock.
func (d *DB) on(class string, t target, fn func(ShardOps) error) error {
	if t.node != "" {
		if d.opts.Remote == nil {
			return fmt.Errorf("shard %s of class %s is on node %s, which this node cannot reach", t.shard, class, t.node)
		}
		return fn(d.opts.Remote.Shard(t.node, class, t.shard))
	}
	return d.LocalShard(class, t.shard, fn)
}

// LocalShard runs fn on a shard of class that this node holds, holding the
// read lock so that the shard stays open meanwhile. The cluster's data port
// serves other nodes' requests through it.
func (d *DB) LocalShard(class, shardName string, fn func(ShardOps) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.classes[class]
	if col == nil {
		return classNotFound(class)
	}
	s := col.shards[shardName]
	if s == nil {
		if col.rec.Class.MultiTenant() {
			if st, ok := col.rec.Tenants[shardName]; ok && st != TenantHot {
				return invalidf("tenant not active: '%s'", shardName)
			}
			if _, ok := col.rec.Tenants[shardName]; !ok {
				return invalidf("tenant not found: %q", shardName)
			}
		}
		return fmt.Errorf("shard %s of class %s on node %s: %w", shardName, class, d.opts.Node, ErrShardNotLocal)
	}
	return fn(localShard{s: s})
}

// onEach runs fn on every target, concurrently when there are several.
func (d *DB) onEach(ctx context.Context, class string, targets []target, fn func(i int, ops ShardOps) error) error {
	if len(targets) == 1 {
		return d.on(class, targets[0], func(o ShardOps) error { return fn(0, o) })
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, t := range targets {
		g.Go(func() error { return d.on(class, t, func(o ShardOps) error { return fn(i, o) }) })
	}
	return g.Wait()
}

// compareIDs orders ids as the shards store them.
func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }
