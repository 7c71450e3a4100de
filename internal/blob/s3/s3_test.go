package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
)

// The tests run against a real S3 server (versitygw in CI), found through
// S3_ENDPOINT, with credentials and region from the usual AWS_* variables.
// Every test gets a fresh bucket.

func TestAcceptance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newTestStore(t) })
}

func TestAcceptancePrefixed(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return blob.Prefixed(newTestStore(t), "backups/strata")
	})
}

// testConfig returns the configuration of a store on the test server, with
// a bucket name not used before, or skips the test if there is no server.
func testConfig(t *testing.T) Config {
	t.Helper()
	endpoint := os.Getenv("S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("S3_ENDPOINT is not set: the S3 emulator must run in CI")
		}
		t.Skip("S3 emulator not running: run ./scripts/test.sh, which starts it")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	// Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY), which is what production uses without
	// static ones.
	return Config{
		Bucket:   "strata-test-" + hex.EncodeToString(b[:]),
		Endpoint: endpoint,
		Region:   os.Getenv("AWS_REGION"),
	}
}

// newTestStore returns a store on a new, empty bucket that is removed when
// the test ends. edit may change the configuration first.
func newTestStore(t *testing.T, edit ...func(*Config)) *Store {
	t.Helper()
	cfg := testConfig(t)
	for _, e := range edit {
		e(&cfg)
	}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

// removeBucket empties and deletes the bucket, including objects with names
// that are not valid keys and pending multipart uploads.
func removeBucket(t *testing.T, s *Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bucket := aws.String(s.bucket)
	for _, u := range pendingUploads(t, ctx, s) {
		_, _ = s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: bucket, Key: u.Key, UploadId: u.UploadId})
	}
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{Bucket: bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Logf("cleanup: list %s: %v", s, err)
			return
		}
		for _, o := range page.Contents {
			_, _ = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: o.Key})
		}
	}
	if _, err := s.client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: bucket}); err != nil {
		t.Logf("cleanup: delete bucket %s: %v", s, err)
	}
}

type pendingUpload struct{ Key, UploadId *string }

// pendingUploads lists the multipart uploads neither completed nor aborted.
func pendingUploads(t *testing.T, ctx context.Context, s *Store) []pendingUpload {
	t.Helper()
	out, err := s.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var ups []pendingUpload
	for _, u := range out.Uploads {
		ups = append(ups, pendingUpload{u.Key, u.UploadId})
	}
	return ups
}

func TestNew(t *testing.T) {
	static := func(c Config) Config {
		c.AccessKeyID, c.SecretAccessKey = "id", "secret"
		return c
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Bucket: "b"}, "s3://b"},
		{Config{Bucket: "b", Endpoint: "s3.amazonaws.com", UseSSL: true}, "s3://b"},
		{Config{Bucket: "b", Endpoint: "127.0.0.1:7070"}, "s3://b (http://127.0.0.1:7070)"},
		{Config{Bucket: "b", Endpoint: "minio.local:9000", UseSSL: true}, "s3://b (https://minio.local:9000)"},
		{Config{Bucket: "b", Endpoint: "https://s3.example.com/", UseSSL: false}, "s3://b (https://s3.example.com)"},
		{Config{Bucket: "b", Endpoint: "http://[::1]:7070"}, "s3://b (http://[::1]:7070)"},
	} {
		s, err := New(t.Context(), static(tc.cfg))
		if err != nil {
			t.Fatalf("New(%+v): %v", tc.cfg, err)
		}
		if s.String() != tc.want {
			t.Errorf("New(%+v).String() = %q, want %q", tc.cfg, s.String(), tc.want)
		}
		if s.partSize != DefaultPartSize || s.concurrency != DefaultConcurrency || s.region != "us-east-1" {
			t.Errorf("New(%+v): part size %d, concurrency %d, region %q; want the defaults", tc.cfg, s.partSize, s.concurrency, s.region)
		}
	}

	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "bucket must not be empty"},
		{Config{Bucket: "a/b"}, "invalid bucket name"},
		{Config{Bucket: "b", PartSize: 1 << 20}, "part size"},
		{Config{Bucket: "b", PartSize: 6 << 30}, "part size"},
		{Config{Bucket: "b", Concurrency: -1}, "concurrency"},
		{Config{Bucket: "b", Endpoint: "ftp://host"}, "invalid endpoint"},
		{Config{Bucket: "b", Endpoint: "http://"}, "invalid endpoint"},
		{Config{Bucket: "b", Endpoint: "host:9000/path"}, "invalid endpoint"},
		{Config{Bucket: "b", Endpoint: "http://user@host"}, "invalid endpoint"},
		{Config{Bucket: "b", Endpoint: "http://host?x=1"}, "invalid endpoint"},
	} {
		if _, err := New(t.Context(), static(tc.cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestWrongCredentials(t *testing.T) {
	good := newTestStore(t)
	ctx := t.Context()
	if err := good.Put(ctx, "k", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Config){
		"secret":    func(c *Config) { c.AccessKeyID, c.SecretAccessKey = os.Getenv("AWS_ACCESS_KEY_ID"), "wrong" },
		"accessKey": func(c *Config) { c.AccessKeyID, c.SecretAccessKey = "nobody", "wrong" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Bucket = good.bucket
			edit(&cfg)
			s, err := New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, blob.ErrPermission) {
					t.Errorf("%s with wrong credentials = %v, want an error wrapping ErrPermission", op, err)
				}
			}
			check("Put", s.Put(ctx, "k2", strings.NewReader("x"), 1))
			check("Put multipart", s.Put(ctx, "k2", strings.NewReader(strings.Repeat("x", 17<<20)), -1))
			rc, err := s.Get(ctx, "k")
			if err == nil {
				rc.Close()
			}
			check("Get", err)
			rc, err = s.GetRange(ctx, "k", 1, 0)
			if err == nil {
				rc.Close()
			}
			check("GetRange", err)
			_, err = s.Stat(ctx, "k")
			check("Stat", err)
			check("List", s.List(ctx, "", func(blob.Attrs) error { return nil }))
			check("Delete", s.Delete(ctx, "k"))
		})
	}
	if ups := pendingUploads(t, ctx, good); len(ups) != 0 {
		t.Errorf("pending multipart uploads: %d", len(ups))
	}
}

func TestMissingBucket(t *testing.T) {
	cfg := testConfig(t)
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	err = s.Put(ctx, "k", strings.NewReader("x"), 1)
	if err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Put into a missing bucket = %v, want an error other than ErrNotFound", err)
	}
	rc, err := s.Get(ctx, "k")
	if err == nil {
		rc.Close()
	}
	if err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get from a missing bucket = %v, want an error other than ErrNotFound", err)
	}
	// HEAD answers 404 without a code for a missing bucket too: Stat must
	// find out that it is the bucket that is missing.
	if _, err := s.Stat(ctx, "k"); err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat in a missing bucket = %v, want an error other than ErrNotFound", err)
	}
	if err := s.List(ctx, "", func(blob.Attrs) error { return nil }); err == nil {
		t.Error("List of a missing bucket succeeded")
	}
}

func TestCreateBucketTwice(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket(t.Context()); err != nil {
		t.Fatalf("CreateBucket of an existing own bucket: %v", err)
	}
}

func TestListSkipsInvalidKeys(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	if _, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String("dir/"), Body: strings.NewReader(""),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "dir/x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.List(ctx, "", func(a blob.Attrs) error { keys = append(keys, a.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "dir/x" {
		t.Fatalf("List = %q, want only dir/x (no directory marker)", keys)
	}
}
