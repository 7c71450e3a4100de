package backup

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"strata/internal/backup/crypt"
	"strata/internal/db"
)

// BenchmarkBackupRestore backs up and restores one class of 50,000 objects
// × 128 dims to the filesystem backend, without and with encryption;
// MB/s is of uncompressed shard bytes, backup-s and restore-s the time of
// each step.
func BenchmarkBackupRestore(b *testing.B) {
	key, err := crypt.ParseKey(strings.Repeat("42", 32))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		key  *crypt.Key
	}{{"plain", nil}, {"encrypted", key}} {
		b.Run(c.name, func(b *testing.B) { benchBackupRestore(b, c.key) })
	}
}

func benchBackupRestore(b *testing.B, key *crypt.Key) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := b.TempDir()
	d, err := db.Open(db.Options{DataPath: data, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	fsb, err := NewFilesystem(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(context.Background(), Options{DB: d, DataPath: data, Node: "node1", ServerVersion: "1.35.0",
		Backends: []Backend{fsb}, Logger: quiet, Encryption: key})
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
	var backupTime, restoreTime time.Duration
	for i := 0; i < b.N; i++ {
		id := "bench-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		t0 := time.Now()
		info := f.backup(b, CreateRequest{ID: id})
		backupTime += time.Since(t0)
		size += info.SizeBytes
		if err := d.DeleteClass("Article"); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		f.restore(b, RestoreRequest{ID: id})
		restoreTime += time.Since(t0)
	}
	b.ReportMetric(float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
	b.ReportMetric(backupTime.Seconds()/float64(b.N), "backup-s")
	b.ReportMetric(restoreTime.Seconds()/float64(b.N), "restore-s")
}
