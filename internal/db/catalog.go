package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"strata/internal/fsutil"
	"strata/internal/schema"
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
	// Shard is the shard name of a class without multi-tenancy.
	Shard string `json:"shard,omitempty"`
	// Tenants maps tenant name → activity status (multi-tenant classes).
	Tenants map[string]string `json:"tenants,omitempty"`
}

// catalogFile is the persisted schema of the whole database.
type catalogFile struct {
	Version int            `json:"version"`
	Classes []*classRecord `json:"classes"`
}

const (
	catalogName    = "schema.json"
	catalogVersion = 1
	classesDir     = "classes"
)

func loadCatalog(dataPath string) ([]*classRecord, error) {
	b, err := os.ReadFile(filepath.Join(dataPath, catalogName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
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
	return f.Classes, nil
}

func saveCatalog(dataPath string, classes []*classRecord) error {
	b, err := json.MarshalIndent(catalogFile{Version: catalogVersion, Classes: classes}, "", " ")
	if err != nil {
		return fmt.Errorf("encode schema: %w", err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dataPath, catalogName), b, 0o644)
}
