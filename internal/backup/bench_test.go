package backup

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"strata/internal/db"
)

// BenchmarkBackupRestore backs up and restores one class of 50,000 objects
// × 128 dims to the filesystem backend; MB/s is of uncompressed shard bytes.
func BenchmarkBackupRestore(b *testing.B) {
	data := b.TempDir()
	d, err := db.Open(db.Options{DataPath: data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	fsb, err := NewFilesystem(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(context.Background(), Options{DB: d, DataPath: data, Node: "node1", ServerVersion: "1.35.0",
		Backends: []Backend{fsb}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	f := &fixture{db: d, mgr: m}
	for i := 0; i < 10; i++ {
		f.addObjects(b, "Article", 5000, 128)
	}
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		id := "bench-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		info := f.backup(b, CreateRequest{ID: id})
		size += info.SizeBytes
		if err := d.DeleteClass("Article"); err != nil {
			b.Fatal(err)
		}
		f.restore(b, RestoreRequest{ID: id})
	}
	b.ReportMetric(float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
}
