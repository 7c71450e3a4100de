package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"strata/internal/fsutil"
	"strata/internal/schema"
	"strata/internal/sharding"
)

// Tenant activity statuses as stored and returned (Weaviate's legacy names).
const (
	TenantHot    = "HOT"
	TenantCold   = "COLD"
	TenantFrozen = "FROZEN"
)

// classRecord is the persisted state of one class.
type classRecord struct {
	Class *schema.Class `json:"class"`
	// Sharding holds the shards of a class without multi-tenancy, their
	// nodes and the token ring that maps an object to its shard.
	Sharding *sharding.State `json:"sharding,omitempty"`
	// LegacyShard is the one shard of a class in catalogs written before
	// classes had a sharding state; Open turns it into one.
	LegacyShard string `json:"shard,omitempty"`
	// Tenants maps tenant name → activity status (multi-tenant classes).
	Tenants map[string]string `json:"tenants,omitempty"`
	// TenantNodes maps tenant name → the node holding its shard (cluster
	// mode; a tenant not in it is on every node that runs alone).
	TenantNodes map[string]string `json:"tenantNodes,omitempty"`
	// Rev is the catalog's revision at the record's last change.
	Rev uint64 `json:"rev,omitempty"`
}

// catalogFile is the persisted schema of the whole database.
type catalogFile struct {
	Version int `json:"version"`
	// Rev counts the schema changes; a record's Rev is the count at its
	// last change.
	Rev uint64 `json:"rev,omitempty"`
	// Applied is the index of the last log command the catalog holds
	// (cluster mode).
	Applied uint64         `json:"applied,omitempty"`
	Classes []*classRecord `json:"classes"`
}

const (
	catalogName    = "schema.json"
	catalogVersion = 1
	classesDir     = "classes"
)

// loadCatalog reads the catalog; node is this node's name, which holds the
// shards of records from before sharding states.
func loadCatalog(dataPath, node string) (*catalogFile, error) {
	b, err := os.ReadFile(filepath.Join(dataPath, catalogName))
	if errors.Is(err, os.ErrNotExist) {
		return &catalogFile{Version: catalogVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	var f catalogFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dataPath, catalogName), err)
	}
	if f.Version != catalogVersion {
		return nil, fmt.Errorf("%s: unsupported version %d", catalogName, f.Version)
	}
	for _, rec := range f.Classes {
		if rec.Class == nil {
			return nil, fmt.Errorf("%s: a class record without a class", catalogName)
		}
		if rec.Class.MultiTenant() {
			continue
		}
		if rec.Sharding == nil && rec.LegacyShard != "" {
			rec.Sharding = sharding.Single(rec.LegacyShard, node)
			rec.LegacyShard = ""
		}
		if rec.Sharding == nil {
			return nil, fmt.Errorf("%s: class %s has no shards", catalogName, rec.Class.Class)
		}
		if err := rec.Sharding.Validate(); err != nil {
			return nil, fmt.Errorf("%s: class %s: %w", catalogName, rec.Class.Class, err)
		}
	}
	return &f, nil
}

func saveCatalog(dataPath string, f *catalogFile) error {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("encode schema: %w", err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dataPath, catalogName), b, 0o644)
}

// tenantNodes is the node list of a tenant's shard (nil: this node).
func (r *classRecord) tenantNodes(tenant string) []string {
	if n := r.TenantNodes[tenant]; n != "" {
		return []string{n}
	}
	return nil
}
