// Package azure is the blob.Store on an Azure Blob Storage container, used
// by the backup-azure backend. It talks to the service (or to Azurite)
// through the azblob SDK.
//
// Key "a/b/c" is the block blob "a/b/c" in the configured container. The
// package owns the mapping of the Store contract onto block blobs: Put
// stages blocks and commits them in one CommitBlockList (or uses a single
// Put Blob for objects smaller than a block), so an object only becomes
// visible, whole, at the commit; List turns the service's UTF-16 name
// order into byte order; SDK and HTTP errors are mapped to the blob
// sentinel errors. It must not create or delete containers on its own
// (CreateContainer exists for tests and tools), must not retry beyond what
// the SDK's transport does (retries belong in decorators), and must not
// hold more block buffers than its blob.Budget allows (Concurrency when the
// context carries none), plus a 64 KiB first read when the size is unknown.
package azure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"strata/internal/blob"
)

// Defaults for Config.
const (
	DefaultBlockSize   = 8 << 20
	DefaultConcurrency = 2
)

// Config locates the container and sets the upload tuning. The field
// comments name the environment variables Weaviate reads them from.
type Config struct {
	Container        string // BACKUP_AZURE_CONTAINER; required
	ConnectionString string // AZURE_STORAGE_CONNECTION_STRING; takes precedence
	AccountName      string // AZURE_STORAGE_ACCOUNT
	AccountKey       string // AZURE_STORAGE_KEY; empty = anonymous
	BlockSize        int64  // bytes per staged block; 0 = DefaultBlockSize
	Concurrency      int    // block buffers per Put without a blob.Budget; 0 = DefaultConcurrency
}

// Store is a blob.Store on one Azure container. It is safe for concurrent
// use.
type Store struct {
	client      *azblob.Client
	container   *container.Client
	name        string // container name
	blockSize   int64
	concurrency int
	buffers     sync.Pool // of *[]byte, len blockSize
}

var _ blob.Store = (*Store)(nil)

// New returns a Store on cfg.Container. It does no I/O: a missing container
// or wrong credentials show up at the first operation. With a connection
// string, its BlobEndpoint (if any) is the service URL; otherwise the URL
// is https://<AccountName>.blob.core.windows.net/, with shared-key
// authentication if AccountKey is set and anonymous access if not.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("azure blob store: %w", err)
	}
	if cfg.Container == "" {
		return nil, errors.New("azure blob store: container must not be empty")
	}
	blockSize := cfg.BlockSize
	switch {
	case blockSize == 0:
		blockSize = DefaultBlockSize
	case blockSize < 0 || blockSize > blockblob.MaxStageBlockBytes:
		return nil, fmt.Errorf("azure blob store: block size %d out of range (1 to %d bytes)", blockSize, int64(blockblob.MaxStageBlockBytes))
	}
	concurrency := cfg.Concurrency
	switch {
	case concurrency == 0:
		concurrency = DefaultConcurrency
	case concurrency < 0:
		return nil, fmt.Errorf("azure blob store: negative concurrency %d", concurrency)
	}
	client, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("azure blob store: %w", err)
	}
	s := &Store{
		client:      client,
		container:   client.ServiceClient().NewContainerClient(cfg.Container),
		name:        cfg.Container,
		blockSize:   blockSize,
		concurrency: concurrency,
	}
	s.buffers.New = func() any {
		b := make([]byte, s.blockSize)
		return &b
	}
	return s, nil
}

func newClient(cfg Config) (*azblob.Client, error) {
	opts := &azblob.ClientOptions{}
	opts.Telemetry.ApplicationID = "strata"
	if cfg.ConnectionString != "" {
		c, err := azblob.NewClientFromConnectionString(cfg.ConnectionString, opts)
		if err != nil {
			return nil, fmt.Errorf("AZURE_STORAGE_CONNECTION_STRING: %w", err)
		}
		return c, nil
	}
	if cfg.AccountName == "" {
		return nil, errors.New("no credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT (and optionally AZURE_STORAGE_KEY)")
	}
	serviceURL := fmt.Sprintf("https://%s.blob.core.windows.net/", cfg.AccountName)
	if cfg.AccountKey == "" {
		return azblob.NewClientWithNoCredential(serviceURL, opts)
	}
	cred, err := azblob.NewSharedKeyCredential(cfg.AccountName, cfg.AccountKey)
	if err != nil {
		return nil, fmt.Errorf("AZURE_STORAGE_KEY: %w", err)
	}
	return azblob.NewClientWithSharedKeyCredential(serviceURL, cred, opts)
}

// CreateContainer creates the container; that it already exists is not an
// error. It is meant for tests and tools: the Store itself never creates
// containers.
func (s *Store) CreateContainer(ctx context.Context) error {
	_, err := s.container.Create(ctx, nil)
	if err == nil || hasCode(err, "ContainerAlreadyExists") {
		return nil
	}
	return fmt.Errorf("%s: create container: %w", s, mapErr(err))
}

// ServiceURL returns the account's blob service URL with a trailing slash,
// e.g. "http://127.0.0.1:10000/devstoreaccount1/". A shared access
// signature from the connection string is left out: the URL is for
// display.
func (s *Store) ServiceURL() string {
	raw := s.client.URL()
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.ForceQuery = "", false
	out := u.String()
	if !strings.HasSuffix(out, "/") {
		out += "/"
	}
	return out
}

func (s *Store) String() string { return "azure://" + s.name }

// Delete removes the blob and any snapshots of it. A missing blob, or a
// missing container, is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(ctx, "delete", key, err)
	}
	_, err := s.container.NewBlobClient(key).Delete(ctx, &sdkblob.DeleteOptions{
		DeleteSnapshots: to.Ptr(sdkblob.DeleteSnapshotsOptionTypeInclude),
	})
	if err != nil && errors.Is(mapErr(err), blob.ErrNotFound) {
		return nil
	}
	return s.wrap(ctx, "delete", key, err)
}

// Close implements blob.Store: the service client holds no connection of
// its own to release.
func (s *Store) Close() error { return nil }
