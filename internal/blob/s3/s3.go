// Package s3 is the blob.Store on an S3 bucket (AWS or any S3-compatible
// server such as MinIO or versitygw), used by the backup-s3 backend.
//
// Key "a/b/c" is the object "a/b/c" in the bucket; the package adds no
// prefix of its own (use blob.Prefixed for BACKUP_S3_PATH). The package owns
// the translation of the blob.Store contract into S3 requests: streaming
// multipart uploads with bounded memory that are aborted on every failure,
// ranged reads, and the mapping of S3 errors onto the blob sentinel errors.
// It must not know anything about backups, read configuration from the
// environment itself (the caller fills Config; only credentials fall back to
// the SDK's default chain), or retry whole operations: retries of single
// requests are left to the SDK's standard retryer, everything above that
// belongs in decorators.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// Sizes and defaults of multipart uploads.
const (
	// MinPartSize is the smallest part S3 accepts (except for the last).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// DefaultPartSize is the part size when Config.PartSize is 0.
	DefaultPartSize = 16 << 20
	// DefaultConcurrency is the number of part buffers (one being filled,
	// the others being sent) of a Put without a blob.Budget when
	// Config.Concurrency is 0.
	DefaultConcurrency = 2
	// maxParts is the most parts one multipart upload may have.
	maxParts = 10000
	// defaultRegion is used when Config.Region is empty.
	defaultRegion = "us-east-1"
)

// Config configures a Store. Only Bucket is required.
type Config struct {
	// Bucket is the bucket holding the objects.
	Bucket string
	// Endpoint is the S3 server: "" for AWS, host[:port] without scheme
	// (as Weaviate's BACKUP_S3_ENDPOINT), or a full http(s):// URL. A
	// custom endpoint is addressed path-style ("host/bucket/key"). The
	// AWS default "s3.amazonaws.com" is treated like "".
	Endpoint string
	// UseSSL selects https when Endpoint has no scheme.
	UseSSL bool
	// Region is the signing region; "" means us-east-1.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials, used when both AccessKeyID and SecretAccessKey are set.
	// Otherwise, as in Weaviate, the SDK's default credential chain is
	// used (environment, shared config files, IAM roles for tasks, pods
	// and instances), and these fields are ignored.
	AccessKeyID, SecretAccessKey, SessionToken string
	// PartSize is the size of the parts of a multipart upload, and the
	// largest object written with a single PutObject. 0 means
	// DefaultPartSize; otherwise it must be within [MinPartSize,
	// MaxPartSize]. Put buffers up to PartSize × Concurrency bytes.
	PartSize int64
	// Concurrency is the number of part buffers a Put holds at once when
	// its context carries no blob.Budget; 0 means DefaultConcurrency.
	Concurrency int
}

// Store is a blob.Store on one S3 bucket. It is safe for concurrent use.
type Store struct {
	client      *awss3.Client
	bucket      string
	endpoint    string // "" for AWS, otherwise the URL requests go to
	region      string
	partSize    int64
	concurrency int
	checksums   bool      // send CRC32 checksums with uploaded data
	parts       sync.Pool // of *[]byte of len partSize
}

var _ blob.Store = (*Store)(nil)

// New validates cfg and returns a Store for it. It sends no request, so it
// does not check that the bucket exists or that the credentials work, but it
// reads the SDK's environment variables and shared configuration files, for
// credentials if cfg has none and for settings such as
// AWS_REQUEST_CHECKSUM_CALCULATION=when_required (for S3-compatible servers
// that reject checksums).
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: %w", err)
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.region)}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: load AWS configuration: %w", s, err)
	}
	s.checksums = awsCfg.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired
	s.client = awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if s.endpoint != "" {
			o.BaseEndpoint = aws.String(s.endpoint)
			o.UsePathStyle = true
		}
		// Objects written without checksums (older servers, other
		// tools) are fine; do not log a warning for every read of one.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return s, nil
}

// newStore checks cfg and fills in the defaults, without a client.
func newStore(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("bucket must not be empty")
	}
	if strings.ContainsAny(cfg.Bucket, "/\\?#") {
		return nil, fmt.Errorf("invalid bucket name %q", cfg.Bucket)
	}
	s := &Store{
		bucket:      cfg.Bucket,
		region:      cfg.Region,
		partSize:    cfg.PartSize,
		concurrency: cfg.Concurrency,
	}
	if s.region == "" {
		s.region = defaultRegion
	}
	switch {
	case s.partSize == 0:
		s.partSize = DefaultPartSize
	case s.partSize < MinPartSize || s.partSize > MaxPartSize:
		return nil, fmt.Errorf("part size %d out of range [%d, %d]", s.partSize, MinPartSize, MaxPartSize)
	}
	switch {
	case s.concurrency == 0:
		s.concurrency = DefaultConcurrency
	case s.concurrency < 0:
		return nil, fmt.Errorf("concurrency %d is negative", s.concurrency)
	}
	endpoint, err := endpointURL(cfg.Endpoint, cfg.UseSSL)
	if err != nil {
		return nil, err
	}
	s.endpoint = endpoint
	return s, nil
}

// endpointURL turns Config.Endpoint into the base URL of requests, or ""
// for AWS's own endpoints.
func endpointURL(endpoint string, useSSL bool) (string, error) {
	if endpoint == "" {
		return "", nil
	}
	raw := endpoint
	if !strings.Contains(endpoint, "://") {
		scheme := "http"
		if useSSL {
			scheme = "https"
		}
		raw = scheme + "://" + endpoint
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("invalid endpoint %q: %w", endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid endpoint %q: scheme must be http or https", endpoint)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("invalid endpoint %q: want host[:port] or scheme://host[:port]", endpoint)
	}
	if u.Host == "s3.amazonaws.com" {
		return "", nil // Weaviate's default: let the SDK pick the regional endpoint
	}
	return u.Scheme + "://" + u.Host, nil
}

// String returns "s3://<bucket>", followed by the endpoint if it is not
// AWS's.
func (s *Store) String() string {
	if s.endpoint == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + " (" + s.endpoint + ")"
}

// CreateBucket creates the bucket, in the configured region. A bucket that
// exists and is owned by the caller is not an error. It is meant for tests
// and first-time setup; the backup engine expects the bucket to exist.
func (s *Store) CreateBucket(ctx context.Context) error {
	in := &awss3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	if s.region != defaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.region),
		}
	}
	_, err := s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err == nil || errors.As(err, &owned) {
		return nil
	}
	return fmt.Errorf("%s: create bucket: %w", s, blobio.WithCtx(ctx, mapErr(err)))
}

// Close drops the idle connections of the store's HTTP client.
func (s *Store) Close() error {
	if c, ok := s.client.Options().HTTPClient.(interface{ GetTransport() *http.Transport }); ok {
		c.GetTransport().CloseIdleConnections()
	}
	return nil
}
