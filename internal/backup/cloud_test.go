package backup

import (
	"fmt"
	"testing"

	"strata/internal/blob"
	"strata/internal/blob/mem"
)

// TestCloudBoundsItsBucketClients: requests naming ever new buckets do
// not pile up clients; the configured bucket's stays.
func TestCloudBoundsItsBucketClients(t *testing.T) {
	opened := 0
	c := NewCloud(CloudConfig{Name: "s3", Bucket: "main", BucketWord: "bucket",
		Open: func(bucket string) (blob.Store, error) { opened++; return mem.New(), nil },
		Home: func(bucket, root, id string, _, _ bool) string { return bucket + "/" + id }})
	if _, err := c.Locate("", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if _, err := c.Locate(fmt.Sprintf("bucket-%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.stores); n > maxCachedBuckets {
		t.Fatalf("%d bucket clients kept, at most %d wanted", n, maxCachedBuckets)
	}
	if c.stores["main"] == nil {
		t.Fatal("the configured bucket's client was dropped")
	}
	before := opened
	if _, err := c.Locate("", ""); err != nil || opened != before {
		t.Fatalf("the configured bucket was opened again (%v)", err)
	}
}
