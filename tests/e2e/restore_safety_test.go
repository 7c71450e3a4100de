package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/internal/failpoint"
)

// startRestoreMayCrash starts a restore on a server that may kill itself
// before its answer is sent (a crash point right after the start).
func startRestoreMayCrash(t *testing.T, s *server, id string) {
	t.Helper()
	r, err := s.tryDo(ctxT(t), http.MethodPost, backupsPath(fsBackend)+"/"+id+"/restore", map[string]any{}, nil, false)
	if err == nil && r.Status != http.StatusOK {
		t.Fatalf("restore %q: %s", id, r)
	}
}

// waitCrash waits until the server has killed itself at its crash point.
func waitCrash(t *testing.T, s *server) {
	t.Helper()
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(crashRecoveryTimeout):
		t.Fatalf("the server did not reach its crash point %s", s.opts.Env[failpoint.CrashEnv])
	}
}

// crashRestore backs up a class, deletes it and restores it on a server
// that kills itself (SIGKILL) at point, then restarts it without the crash
// point and returns the restore's final status and the class's objects as
// they were backed up.
func crashRestore(t *testing.T, point, id string) (*server, pollResult, objSnapshot) {
	s := startServer(t, serverOptions{Env: map[string]string{failpoint.CrashEnv: point}})
	createClass(t, s, articleClass("Article"))
	batchImport(t, s, "Article", "", genObjects(311, 300, 16), 100)
	before := snapshotObjects(t, s, "Article", "")
	backupAndWait(t, s, map[string]any{"id": id})
	deleteClass(t, s, "Article")
	startRestoreMayCrash(t, s, id)
	waitCrash(t, s)
	delete(s.opts.Env, failpoint.CrashEnv)
	s.restart()
	res := pollStatus(t, s, backupsPath(fsBackend)+"/"+id+"/restore", crashRecoveryTimeout)
	t.Logf("after the restart: restore statuses %v, error %q", res.Seen, res.Final.Error)
	stored := readJSONFile(t, filepath.Join(s.BackupDir, id, "restore_config.json"))
	if stored["status"] != res.Final.Status {
		t.Errorf("restore_config.json says %v, the status endpoint %s", stored["status"], res.Final.Status)
	}
	return s, res, before
}

// TestRestoreKilledAfterInstall: SIGKILL after the schema write that
// installs the classes, before the final status: after the restart the
// restore is SUCCESS and its data is served, also after another restart.
func TestRestoreKilledAfterInstall(t *testing.T) {
	t.Parallel()
	s, res, before := crashRestore(t, failpoint.RestoreAfterInstall, "killed-after")
	wantFinal(t, "restore killed after the install", res, "SUCCESS")
	compareSnapshots(t, "Article after the restart", snapshotObjects(t, s, "Article", ""), before)
	s.restart()
	compareSnapshots(t, "Article after another restart", snapshotObjects(t, s, "Article", ""), before)
}

// TestRestoreKilledBeforeInstall: SIGKILL with the shards moved into place
// but before the schema write: after the restart the restore is FAILED, no
// class is visible, and the restore runs again.
func TestRestoreKilledBeforeInstall(t *testing.T) {
	t.Parallel()
	s, res, before := crashRestore(t, failpoint.RestoreBeforeCatalog, "killed-before")
	wantFinal(t, "restore killed before the install", res, "FAILED")
	wantInterruptedError(t, "restore killed before the install", res.Final.Error)
	wantClassAbsent(t, s, "Article", "after a restore killed before its install")
	restoreAndWait(t, s, "killed-before", nil)
	compareSnapshots(t, "Article restored again", snapshotObjects(t, s, "Article", ""), before)
}

// editBackupManifest rewrites <id>/node1/backup.json; edit gets each class
// with its schema decoded.
func editBackupManifest(t *testing.T, s *server, id string, edit func(class map[string]any, schema map[string]any)) {
	t.Helper()
	path := filepath.Join(s.BackupDir, id, nodeName, "backup.json")
	nm := readJSONFile(t, path)
	for _, c := range nm["classes"].([]any) {
		class := c.(map[string]any)
		raw, err := base64.StdEncoding.DecodeString(class["schema"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var sch map[string]any
		if err := json.Unmarshal(raw, &sch); err != nil {
			t.Fatal(err)
		}
		edit(class, sch)
		if raw, err = json.Marshal(sch); err != nil {
			t.Fatal(err)
		}
		class["schema"] = base64.StdEncoding.EncodeToString(raw)
	}
	b, err := json.Marshal(nm)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// zstdBomb is a zstd frame of RLE blocks: 512 KiB decoding to 16 GiB of zeros.
func zstdBomb() []byte {
	const blocks = 128 << 10
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3}
	for i := range blocks {
		h := 128<<10<<3 | 1<<1
		if i == blocks-1 {
			h |= 1
		}
		frame = append(frame, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return frame
}

// TestRestoreRefusesInvalidBackups: a class definition a create refuses, a
// shard the class does not have and a chunk with a decompression bomb
// appended each fail the restore with an error naming the culprit; no class
// appears; the intact backup then restores.
func TestRestoreRefusesInvalidBackups(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	batchImport(t, s, "Article", "", genObjects(312, 200, 16), 100)
	before := snapshotObjects(t, s, "Article", "")
	const id = "tampered"
	backupAndWait(t, s, map[string]any{"id": id, "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	deleteClass(t, s, "Article")
	manifest := filepath.Join(s.BackupDir, id, nodeName, "backup.json")
	original, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	chunk := largestFile(t, chunkFiles(t, s.BackupDir, id, "Article"))
	chunkBytes, err := os.ReadFile(chunk)
	if err != nil {
		t.Fatal(err)
	}
	var shard string
	for _, tc := range []struct {
		what   string
		tamper func()
		want   []string
	}{
		{"invalid vector index type", func() {
			editBackupManifest(t, s, id, func(_, sch map[string]any) { sch["vectorIndexType"] = "bogus" })
		}, []string{`class "Article"`, `unrecognized or unsupported vectorIndexType "bogus"`}},
		{"invalid property name", func() {
			editBackupManifest(t, s, id, func(_, sch map[string]any) {
				sch["properties"] = append(sch["properties"].([]any), map[string]any{"name": "x y", "dataType": []any{"text"}})
			})
		}, []string{`class "Article"`, `'x y' is not a valid property name`}},
		{"unknown data type", func() {
			editBackupManifest(t, s, id, func(_, sch map[string]any) {
				sch["properties"] = append(sch["properties"].([]any), map[string]any{"name": "p", "dataType": []any{"nonsense"}})
			})
		}, []string{`class "Article"`, `property 'p': invalid dataType`}},
		{"shard the class does not have", func() {
			editBackupManifest(t, s, id, func(class, _ map[string]any) {
				sd := class["shards"].([]any)[0].(map[string]any)
				shard = sd["name"].(string)
				sd["name"] = "Elsewhere"
			})
		}, []string{"class Article", `shard "Elsewhere"`}},
		{"decompression bomb", func() {
			if err := os.WriteFile(chunk, append(chunkBytes[:len(chunkBytes):len(chunkBytes)], zstdBomb()...), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{filepath.Base(chunk), fmt.Sprintf("larger than the %d bytes its manifest records", len(chunkBytes))}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			if err := os.WriteFile(manifest, original, 0o644); err != nil {
				t.Fatal(err)
			}
			tc.tamper()
			startRestore(t, s, id, nil)
			res := waitRestoreRaw(t, s, id, "")
			wantFinal(t, "restore of a backup with a "+tc.what, res, "FAILED")
			for _, w := range tc.want {
				if !strings.Contains(res.Final.Error, w) {
					t.Errorf("error %q does not contain %q", res.Final.Error, w)
				}
			}
			wantClassAbsent(t, s, "Article", "after a failed restore")
		})
	}
	if shard == "" {
		t.Fatal("the manifest edit found no shard")
	}
	if err := os.WriteFile(manifest, original, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chunk, chunkBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	restoreAndWait(t, s, id, nil)
	compareSnapshots(t, "Article from the intact backup", snapshotObjects(t, s, "Article", ""), before)
}
