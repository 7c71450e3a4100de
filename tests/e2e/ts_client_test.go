package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tsHowTo says how to run the TypeScript client test when it skips.
const tsHowTo = "install Node.js 20+ (with npm) and run: go test ./tests/e2e -run TestTSClient " +
	"(or, against a running server: cd tests/ts && npm ci && STRATA_HTTP_PORT=8080 STRATA_GRPC_PORT=50051 node journey.mjs)"

// TestTSClientJourney runs tests/ts/journey.mjs — the official TypeScript
// client (weaviate-client 3.12) over REST and gRPC: create a collection
// with a named vector, insertMany, nearVector, fetchObjectById, deleteMany,
// backup, delete, restore — against a server without and with API keys.
// Without node/npm it skips, except under CI=true, where it fails.
func TestTSClientJourney(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	dir := tsProject(t)
	for _, key := range []string{"", "ts-key"} {
		name := "anonymous"
		if key != "" {
			name = "api-key"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, serverOptions{APIKey: key})
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "journey.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"STRATA_HOST=127.0.0.1",
				"STRATA_HTTP_PORT="+strconv.Itoa(s.Port),
				"STRATA_GRPC_PORT="+strconv.Itoa(s.GRPCPort),
				"STRATA_API_KEY="+key,
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node journey.mjs: %v\n%s", err, out)
			}
			t.Logf("node journey.mjs:\n%s", out)
		})
	}
}

// TestTSClientJourneyCluster runs the TypeScript client's journey (create,
// import, search, backup with wait, restore with wait) against a 3-node
// cluster whose nodes share the backup directory, through a follower or
// the leader alike (the second node).
func TestTSClientJourneyCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	node := requireNode(t)
	dir := tsProject(t)
	nodes := startCluster(t, []string{"node1", "node2", "node3"}, serverOptions{BackupDir: t.TempDir()})
	s := nodes[1]
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "journey.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STRATA_HOST=127.0.0.1", "STRATA_HTTP_PORT="+strconv.Itoa(s.Port),
		"STRATA_GRPC_PORT="+strconv.Itoa(s.GRPCPort), "STRATA_API_KEY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node journey.mjs against a 3-node cluster: %v\n%s", err, out)
	}
	t.Logf("node journey.mjs (3 nodes):\n%s", out)
}

// requireNode returns the path of node (20+) and checks npm is there too;
// it skips the test when they are missing, or fails it under CI=true.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the TypeScript client test must run)", msg)
		}
		t.Skipf("%s; %s", msg, tsHowTo)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		missing("npm not found")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		missing("node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil || major < 20 {
		missing("node %s is too old (the TypeScript client needs 20+)", v)
	}
	return node
}

var (
	tsOnce sync.Once
	tsDir  string
	tsErr  error
)

// tsProject returns a directory holding journey.mjs and the installed
// client. It uses tests/ts when its node_modules is installed; otherwise it
// installs the locked dependencies once (npm ci) into a cache directory
// keyed by package.json and the lockfile, and copies the script there. A
// failed install skips the test (fails it under CI=true).
func tsProject(t *testing.T) string {
	t.Helper()
	tsOnce.Do(func() { tsDir, tsErr = prepareTSProject() })
	if tsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("TypeScript client project: %v", tsErr)
		}
		// Most likely offline: an environment problem, not a server fault.
		t.Skipf("TypeScript client project: %v; %s", tsErr, tsHowTo)
	}
	return tsDir
}

func prepareTSProject() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(root, "tests", "ts")
	if _, err := os.Stat(filepath.Join(src, "node_modules", "weaviate-client", "package.json")); err == nil {
		return src, nil
	}
	files := []string{"package.json", "package-lock.json"}
	h := sha256.New()
	var have []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if errors.Is(err, os.ErrNotExist) && f == "package-lock.json" {
			continue
		}
		if err != nil {
			return "", err
		}
		h.Write(b)
		have = append(have, f)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "strata", "ts-client-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "weaviate-client", "package.json")); err != nil {
		if err := npmInstall(src, dir, have); err != nil {
			return "", err
		}
	}
	script, err := os.ReadFile(filepath.Join(src, "journey.mjs"))
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".journey-%d.mjs", os.Getpid()))
	if err := os.WriteFile(tmp, script, 0o644); err != nil {
		return "", err
	}
	return dir, os.Rename(tmp, filepath.Join(dir, "journey.mjs"))
}

// npmInstall installs the project's dependencies into dir: in a staging
// directory first, renamed into place when complete, so an interrupted
// install is never taken for a finished one.
func npmInstall(src, dir string, files []string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".staging-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(stage, f), b, 0o644); err != nil {
			return err
		}
	}
	args := []string{"ci"}
	if len(files) < 2 {
		args = []string{"install"}
	}
	args = append(args, "--no-audit", "--no-fund", "--ignore-scripts")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = stage
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm %s in %s: %v\n%s", strings.Join(args, " "), stage, err, out)
	}
	if err := os.Rename(stage, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "weaviate-client", "package.json")); statErr == nil {
			return nil // installed meanwhile by another test process
		}
		return err
	}
	return nil
}
