package backup

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/internal/backup/crypt"
	"strata/internal/db"
)

// BenchmarkBackupRestore backs up and restores one class of 50,000 objects
// × 128 dims to the filesystem backend, without and with encryption;
// MB/s is of uncompressed shard bytes, backup-s, verify-s (full) and
// restore-s the time of each step, and zstd-d-s the time `zstd -d` takes
// to decompress the backup's chunks (the floor of a full verify; plain
// backups only, when zstd is installed).
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
	backups := b.TempDir()
	fsb, err := NewFilesystem(backups)
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
	var backupTime, verifyTime, floorTime, restoreTime time.Duration
	for i := 0; i < b.N; i++ {
		id := "bench-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		t0 := time.Now()
		info := f.backup(b, CreateRequest{ID: id})
		backupTime += time.Since(t0)
		size += info.SizeBytes
		t0 = time.Now()
		if rep, err := m.Verify(context.Background(), "filesystem", id, "", "", VerifyFull); err != nil || !rep.OK {
			b.Fatalf("verify: %+v, %v", rep, err)
		}
		verifyTime += time.Since(t0)
		if key == nil {
			floorTime += zstdFloor(b, filepath.Join(backups, id))
		}
		if err := d.DeleteClass("Article"); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		f.restore(b, RestoreRequest{ID: id})
		restoreTime += time.Since(t0)
	}
	b.ReportMetric(float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
	b.ReportMetric(backupTime.Seconds()/float64(b.N), "backup-s")
	b.ReportMetric(verifyTime.Seconds()/float64(b.N), "verify-s")
	if floorTime > 0 {
		b.ReportMetric(floorTime.Seconds()/float64(b.N), "zstd-d-s")
	}
	b.ReportMetric(restoreTime.Seconds()/float64(b.N), "restore-s")
}

// zstdFloor is how long `zstd -d` takes to decompress every chunk under
// dir to nowhere (0 without zstd).
func zstdFloor(b *testing.B, dir string) time.Duration {
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		return 0
	}
	chunks, _ := filepath.Glob(filepath.Join(dir, "*", "*", "chunk-*"))
	t0 := time.Now()
	cmd := exec.Command(zstd, append([]string{"-d", "-q", "-c"}, chunks...)...)
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		b.Fatalf("zstd -d: %v", err)
	}
	return time.Since(t0)
}
