package backup

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"strata/internal/apperr"
	"strata/internal/blob"
)

// Cloud is a bucket-based backend (s3, gcs, azure): a configured bucket and
// root path, either of which a request may override.
type Cloud struct {
	name   string
	bucket string // configured bucket (container)
	root   string // configured root path ("" = bucket root)
	meta   map[string]any
	open   func(bucket string) (blob.Store, error)
	home   func(bucket, root, id string, bucketOverridden, pathOverridden bool) string
	what   string // "bucket" or "container", for messages

	mu     sync.Mutex
	stores map[string]blob.Store
}

// CloudConfig describes a bucket-based backend.
type CloudConfig struct {
	Name   string // "s3", "gcs", "azure"
	Bucket string
	Root   string
	Meta   map[string]any
	// Open returns a store for a bucket; it is called once per bucket.
	Open func(bucket string) (blob.Store, error)
	// Home renders a backup's home for the API's "path" field.
	Home func(bucket, root, id string, bucketOverridden, pathOverridden bool) string
	// BucketWord is "bucket" or "container".
	BucketWord string
}

// NewCloud builds a bucket-based backend.
func NewCloud(c CloudConfig) *Cloud {
	return &Cloud{name: c.Name, bucket: c.Bucket, root: strings.Trim(c.Root, "/"), meta: c.Meta,
		open: c.Open, home: c.Home, what: c.BucketWord, stores: map[string]blob.Store{}}
}

// Name implements Backend.
func (c *Cloud) Name() string { return c.name }

// Meta implements Backend.
func (c *Cloud) Meta() map[string]any { return c.meta }

// Locate implements Backend: the bucket override replaces the configured
// bucket, the path override replaces (not extends) the configured root.
func (c *Cloud) Locate(bucket, p string) (*Location, error) {
	b := c.bucket
	if bucket != "" {
		b = bucket
	}
	if b == "" {
		return nil, apperr.Invalidf("%s must not be empty", c.what)
	}
	root := c.root
	if p != "" {
		root = strings.Trim(p, "/")
		if root != "" {
			if err := blob.ValidateKey(root); err != nil {
				return nil, apperr.Invalidf("invalid backup path %q: %v", p, err)
			}
		}
	}
	st, err := c.storeFor(b)
	if err != nil {
		return nil, err
	}
	loc := &Location{Store: st}
	if root != "" {
		loc.Store = blob.Prefixed(st, root)
	}
	if bucket != "" {
		loc.Bucket = bucket
	}
	loc.home = func(id string) string { return c.home(b, root, id, bucket != "", p != "") }
	return loc, nil
}

func (c *Cloud) storeFor(bucket string) (blob.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stores[bucket]; st != nil {
		return st, nil
	}
	st, err := c.open(bucket)
	if err != nil {
		return nil, fmt.Errorf("open %s %s %q: %w", c.name, c.what, bucket, err)
	}
	if len(c.stores) >= maxCachedBuckets {
		// Requests naming many buckets must not pile up clients: forget
		// one other than the configured bucket (jobs that use it keep
		// their reference; its idle connections time out).
		for b := range c.stores {
			if b != c.bucket {
				delete(c.stores, b)
				break
			}
		}
	}
	c.stores[bucket] = st
	return st, nil
}

// maxCachedBuckets bounds the bucket clients a cloud backend keeps.
const maxCachedBuckets = 16

// joinHome joins bucket, root and id as Weaviate renders homes.
func joinHome(prefix string, parts ...string) string {
	return prefix + path.Join(parts...)
}

// Close closes every bucket client the backend keeps (at shutdown, when
// no job uses them).
func (c *Cloud) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for b, st := range c.stores {
		errs = append(errs, st.Close())
		delete(c.stores, b)
	}
	return errors.Join(errs...)
}
