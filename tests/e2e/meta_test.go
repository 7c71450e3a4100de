package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestMetaAndHealth: readiness/liveness and /v1/meta (version ≥ 1.27, the
// filesystem backup module, hostname).
func TestMetaAndHealth(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})

	for _, p := range []string{"/v1/.well-known/ready", "/v1/.well-known/live"} {
		r := s.do(t, http.MethodGet, p, nil)
		wantStatus(t, r, http.StatusOK)
	}

	c := s.client(t)
	ready, err := c.Misc().ReadyChecker().Do(ctxT(t))
	if err != nil || !ready {
		t.Fatalf("client ReadyChecker: ready=%v err=%v", ready, err)
	}
	live, err := c.Misc().LiveChecker().Do(ctxT(t))
	if err != nil || !live {
		t.Fatalf("client LiveChecker: live=%v err=%v", live, err)
	}

	meta, err := c.Misc().MetaGetter().Do(ctxT(t))
	if err != nil {
		t.Fatalf("meta: %v", err)
	}
	if !versionAtLeast(meta.Version, 1, 27) {
		t.Errorf("meta version %q, want ≥ 1.27.0 (clients gate features on it)", meta.Version)
	}
	if want := s.URL; meta.Hostname != want {
		t.Errorf("meta hostname %q, want %q", meta.Hostname, want)
	}
	mods, ok := meta.Modules.(map[string]any)
	if !ok {
		t.Fatalf("meta modules %T %v, want an object", meta.Modules, meta.Modules)
	}
	bfs, ok := mods["backup-filesystem"]
	if !ok {
		t.Fatalf("meta modules %v: backup-filesystem missing", mods)
	}
	if m, ok := bfs.(map[string]any); ok {
		if p, ok := m["backupsPath"]; ok && p != s.BackupDir {
			t.Errorf("backup-filesystem backupsPath %v, want %q", p, s.BackupDir)
		}
	} else {
		t.Errorf("backup-filesystem module meta %T %v, want an object", bfs, bfs)
	}

	// The raw response is JSON with a version string.
	r := s.do(t, http.MethodGet, "/v1/meta", nil)
	wantStatus(t, r, http.StatusOK)
	var raw map[string]any
	r.JSON(t, &raw)
	if _, ok := raw["version"].(string); !ok {
		t.Errorf("raw meta %s: version is not a string", r)
	}

	// Unknown routes are 404 with the {"code":404,...} shape.
	r = s.do(t, http.MethodGet, "/v1/no-such-endpoint", nil)
	wantStatus(t, r, http.StatusNotFound)
}

// versionAtLeast parses "major.minor.patch[-suffix]".
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 3 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
