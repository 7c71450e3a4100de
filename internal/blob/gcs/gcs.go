// Package gcs is the blob.Store on a Google Cloud Storage bucket, used by
// the backup-gcs backend. It talks to GCS through cloud.google.com/go/storage
// over the JSON/XML HTTP APIs.
//
// The package owns how Store operations map onto GCS calls: streaming
// resumable uploads that are finalized only once the whole input was read
// (so Put is all-or-nothing), ranged reads, listing in the bucket's lexical
// order, and the translation of GCS errors to the blob sentinel errors. Key
// "a/b/c" is the object "a/b/c" in the bucket, unchanged; prefixes (roots)
// are applied by blob.Prefixed, not here.
//
// It must not interpret keys or contents, must not add retries or
// throttling of its own (the client library's defaults for idempotent calls
// apply; anything more belongs in a decorator), and must not create
// buckets outside CreateBucket, which exists for tests. The emulator
// variable STORAGE_EMULATOR_HOST is honoured by the client library itself.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"strata/internal/blob"
)

// DefaultChunkSize is the resumable-upload chunk size used when
// Config.ChunkSize is 0. Each Put buffers at most one chunk in memory.
const DefaultChunkSize = 16 << 20

// Config configures a Store.
type Config struct {
	// Bucket is the bucket name; required.
	Bucket string
	// ProjectID is the project a bucket is created in by CreateBucket.
	ProjectID string
	// UseAuth selects Google default credentials
	// (GOOGLE_APPLICATION_CREDENTIALS, the metadata server, ...) with the
	// devstorage.read_write scope; false sends no credentials at all.
	UseAuth bool
	// ChunkSize is the resumable-upload chunk size in bytes, rounded up by
	// the library to a multiple of 256 KiB; 0 means DefaultChunkSize.
	ChunkSize int
}

// Store is a blob.Store on one GCS bucket. It is safe for concurrent use.
type Store struct {
	client    *storage.Client
	bucket    *storage.BucketHandle
	name      string
	projectID string
	chunkSize int

	closeOnce sync.Once
	closeErr  error
}

var _ blob.Store = (*Store)(nil)

// New returns a Store on cfg.Bucket. It does no I/O: a missing bucket or
// bad credentials show up on the first operation. ctx is used only while
// creating the client; cancelling it later does not affect the Store.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("bucket must not be empty")
	}
	if cfg.ChunkSize < 0 {
		return nil, fmt.Errorf("gcs blob store gs://%s: negative chunk size %d", cfg.Bucket, cfg.ChunkSize)
	}
	chunk := cfg.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	var opts []option.ClientOption
	if cfg.UseAuth {
		opts = append(opts, option.WithScopes(storage.ScopeReadWrite))
	} else {
		opts = append(opts, option.WithoutAuthentication())
	}
	// Credentials may keep the creation context for token refreshes, so it
	// must outlive the caller's ctx.
	client, err := storage.NewClient(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return nil, fmt.Errorf("gcs blob store gs://%s: create client: %w", cfg.Bucket, err)
	}
	return &Store{
		client:    client,
		bucket:    client.Bucket(cfg.Bucket),
		name:      cfg.Bucket,
		projectID: cfg.ProjectID,
		chunkSize: chunk,
	}, nil
}

// CreateBucket creates the bucket in Config.ProjectID with default
// settings. A bucket that already exists is not an error. It is meant for
// tests and emulators; production buckets are provisioned by their owners.
func (s *Store) CreateBucket(ctx context.Context) error {
	err := s.bucket.Create(ctx, s.projectID, nil)
	if err == nil || httpCode(err) == 409 { // 409 Conflict: already exists
		return nil
	}
	return fmt.Errorf("%s: create bucket: %w", s, mapErr(err))
}

// Close releases the client's resources. The Store must not be used
// afterwards.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.client.Close(); err != nil {
			s.closeErr = fmt.Errorf("%s: close: %w", s, err)
		}
	})
	return s.closeErr
}

// String returns "gs://<bucket>".
func (s *Store) String() string { return "gs://" + s.name }
