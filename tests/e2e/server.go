// Package e2e holds Strata's end-to-end tests: they build the server binary
// (cmd/strata) once per test run, start it as a real process on free ports
// (REST and gRPC) with its own data directory, and drive it with the
// official Weaviate Go client, Weaviate's generated gRPC client, the
// official TypeScript client (tests/ts) and raw HTTP.
//
// This file is the process harness (standard library only, so that `go build
// ./...` never needs the client's dependencies); the client-side helpers live
// in _test.go files. Backup tests reuse the same harness.
//
// Environment knobs:
//
//	STRATA_E2E_BIN      use this prebuilt server binary instead of building ./cmd/strata
//	STRATA_E2E_VERBOSE  if set, always print the server log at the end of each test
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds how long a (re)started server may take to answer
	// 200 on /v1/.well-known/ready.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds how long a SIGTERM'd server may take to exit before
	// it is SIGKILLed (and the test fails).
	stopTimeout = 20 * time.Second
	// maxLogDump bounds how much of a server log is printed on failure.
	maxLogDump = 64 << 10
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// serverBinary returns the path of the server binary, building ./cmd/strata
// on first use (once per test binary run).
func serverBinary() (string, error) {
	buildOnce.Do(func() {
		if p := os.Getenv("STRATA_E2E_BIN"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "strata-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(buildDir, "strata")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/strata")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/strata (in %s): %v\n%s", root, err, out)
		}
	})
	return binPath, buildErr
}

// cleanupBinary removes the temporary build directory (called from TestMain).
func cleanupBinary() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// moduleRoot finds the directory holding the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	// Fall back to the path relative to this package (tests/e2e).
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot locate module root: %w", err)
	}
	return abs, nil
}

// serverOptions configures one server process.
type serverOptions struct {
	// APIKey, when set, starts the server with API-key authentication
	// enabled, this key allowed and anonymous access disabled. Clients and
	// raw requests made through the server helpers send it.
	APIKey string
	// DataDir / BackupDir default to fresh temporary directories.
	DataDir   string
	BackupDir string
	// Env holds extra environment variables (e.g. AUTOSCHEMA_ENABLED=false,
	// STRATA_MAX_BODY_BYTES=1024, QUERY_MAXIMUM_RESULTS=...). They override
	// the harness defaults.
	Env map[string]string
	// NodeEnv holds, for startCluster, extra variables of one node (by
	// name) that override Env and the cluster's defaults.
	NodeEnv map[string]map[string]string

	noLaunch bool // startServer only prepares the server (startCluster)
}

// server is one Strata process under test. It can be stopped, killed and
// restarted on the same data directory and port.
type server struct {
	t    testing.TB
	opts serverOptions
	bin  string

	Port      int    // REST port
	GRPCPort  int    // gRPC port (GRPC_PORT), on the same host
	Host      string // "127.0.0.1:<port>", for weaviate.Config.Host
	URL       string // "http://127.0.0.1:<port>"
	DataDir   string
	BackupDir string
	logDir    string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the current process has exited
	waitErr error
	runs    int      // number of processes started so far
	logs    []string // log file of every run, in order
}

// startServer builds (once) and starts a server, waits until it is ready
// and registers cleanup (SIGTERM, then SIGKILL; logs dumped on failure).
func startServer(t testing.TB, opts serverOptions) *server {
	t.Helper()
	bin, err := serverBinary()
	if err != nil {
		t.Fatalf("server binary: %v", err)
	}
	s := &server{t: t, opts: opts, bin: bin}
	s.DataDir = opts.DataDir
	if s.DataDir == "" {
		s.DataDir = filepath.Join(t.TempDir(), "data")
	}
	s.BackupDir = opts.BackupDir
	if s.BackupDir == "" {
		s.BackupDir = filepath.Join(t.TempDir(), "backups")
	}
	for _, d := range []string{s.DataDir, s.BackupDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.logDir = t.TempDir()
	s.Port = freePort(t)
	s.GRPCPort = freePort(t)
	s.Host = fmt.Sprintf("127.0.0.1:%d", s.Port)
	s.URL = "http://" + s.Host

	t.Cleanup(func() {
		s.shutdown()
		if t.Failed() || os.Getenv("STRATA_E2E_VERBOSE") != "" {
			s.dumpLogs()
		}
	})
	if !opts.noLaunch {
		s.launch()
	}
	return s
}

// handedOut holds every port freePort returned, so that servers started
// together (a cluster's nodes) never get the same one.
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

// freePort asks the kernel for a free TCP port on 127.0.0.1 that this test
// binary has not used yet.
func freePort(t testing.TB) int {
	t.Helper()
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut[port] {
			handedOut[port] = true
			return port
		}
	}
}

// env builds the child's environment from scratch (nothing from the test
// process leaks in except what a Go program needs to run).
func (s *server) env() []string {
	vars := map[string]string{
		"PERSISTENCE_DATA_PATH":  s.DataDir,
		"BACKUP_FILESYSTEM_PATH": s.BackupDir,
		"CLUSTER_HOSTNAME":       "node1",
		"GRPC_PORT":              strconv.Itoa(s.GRPCPort),
		"LOG_LEVEL":              "info",
	}
	if s.opts.APIKey != "" {
		vars["AUTHENTICATION_APIKEY_ENABLED"] = "true"
		vars["AUTHENTICATION_APIKEY_ALLOWED_KEYS"] = s.opts.APIKey
		vars["AUTHENTICATION_APIKEY_USERS"] = "e2e-user"
		vars["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] = "false"
	}
	for k, v := range s.opts.Env {
		vars[k] = v
	}
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR", "GORACE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// launch starts a new process on the server's port and data dir and waits
// for readiness. It fails the test if the process exits or never becomes
// ready.
func (s *server) launch() {
	s.t.Helper()
	s.waitUp(s.spawn())
}

// waitUp waits until the process spawn started is ready.
func (s *server) waitUp(done <-chan struct{}) {
	s.t.Helper()
	if err := s.waitReady(done, readyTimeout); err != nil {
		s.t.Fatalf("server (run %d, %s) did not become ready: %v", s.runs, s.URL, err)
	}
}

// spawn starts a new process on the server's port and data dir; done is
// closed when it exits.
func (s *server) spawn() (done <-chan struct{}) {
	s.t.Helper()
	s.mu.Lock()
	s.runs++
	logPath := filepath.Join(s.logDir, fmt.Sprintf("server-run%d.log", s.runs))
	s.logs = append(s.logs, logPath)
	s.mu.Unlock()

	logFile, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(s.Port))
	cmd.Env = s.env()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("start server: %v", err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd = cmd
	s.done = exited
	s.waitErr = nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logFile.Close()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	return exited
}

// waitReady polls GET /v1/.well-known/ready until it answers 200.
func (s *server) waitReady(done <-chan struct{}, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.mu.Lock()
			err := s.waitErr
			s.mu.Unlock()
			return fmt.Errorf("server process exited during start-up: %v", err)
		default:
		}
		resp, err := hc.Get(s.URL + "/v1/.well-known/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d", resp.StatusCode)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timeout after %s (last: %s)", timeout, last)
}

// exited is closed when the current process has exited.
func (s *server) exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// running reports whether a server process is currently alive.
func (s *server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for the process to exit. If it has not
// exited after stopTimeout it is SIGKILLed and the test fails: a server
// must shut down on SIGTERM.
func (s *server) stop() {
	s.t.Helper()
	if graceful := s.terminate(); !graceful {
		s.t.Errorf("server did not exit within %s of SIGTERM; it was SIGKILLed", stopTimeout)
	}
}

// terminate is stop without failing the test; it reports whether the
// process exited on SIGTERM alone.
func (s *server) terminate() bool {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		s.mu.Lock()
		err := s.waitErr
		s.mu.Unlock()
		if err != nil {
			s.t.Logf("server exited after SIGTERM with: %v", err)
		}
		return true
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return false
	}
}

// kill SIGKILLs the server (its whole process group) and waits until it is
// gone. Nothing is flushed: this simulates a crash / power loss of the
// process (not of the OS page cache).
func (s *server) kill() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("server pid %d did not die after SIGKILL", cmd.Process.Pid)
	}
}

// restart starts a new process on the same port and data directory. If the
// current process is still running it is stopped with SIGTERM first.
func (s *server) restart() {
	s.t.Helper()
	if s.running() {
		s.stop()
	}
	s.launch()
}

// shutdown is the cleanup path: SIGTERM, then SIGKILL.
func (s *server) shutdown() {
	if s.running() {
		if !s.terminate() {
			s.t.Logf("server did not exit within %s of SIGTERM; it was SIGKILLed", stopTimeout)
		}
	}
}

// logContains tells whether the current run's log has text.
func (s *server) logContains(text string) bool {
	s.mu.Lock()
	path := s.logs[len(s.logs)-1]
	s.mu.Unlock()
	b, _ := os.ReadFile(path)
	return strings.Contains(string(b), text)
}

// dumpLogs prints the server logs of every run (tail-truncated).
func (s *server) dumpLogs() {
	s.mu.Lock()
	logs := append([]string(nil), s.logs...)
	s.mu.Unlock()
	for i, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			s.t.Logf("server log run %d: %v", i+1, err)
			continue
		}
		if len(b) > maxLogDump {
			b = append([]byte("…(truncated)…\n"), b[len(b)-maxLogDump:]...)
		}
		s.t.Logf("==== server log, run %d (%s) ====\n%s==== end of server log run %d ====", i+1, p, b, i+1)
	}
}

// httpResponse is the outcome of a raw HTTP request.
type httpResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r httpResponse) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response body (status %d) %q: %v", r.Status, truncate(r.Body, 500), err)
	}
}

func (r httpResponse) String() string {
	return fmt.Sprintf("HTTP %d %s", r.Status, truncate(r.Body, 2000))
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// rawClient is shared by all raw requests.
var rawClient = &http.Client{Timeout: 120 * time.Second}

// do sends a raw HTTP request to the server. body may be nil, a []byte or
// string (sent as is) or any other value (sent as JSON). The API key is
// sent when the server was started with one, unless noAuth is true.
func (s *server) do(t testing.TB, method, path string, body any) httpResponse {
	t.Helper()
	return s.doWith(t, method, path, body, nil, false)
}

// doNoAuth is do without credentials.
func (s *server) doNoAuth(t testing.TB, method, path string, body any) httpResponse {
	t.Helper()
	return s.doWith(t, method, path, body, nil, true)
}

// doWith is the general raw request: extra headers, optional auth.
func (s *server) doWith(t testing.TB, method, path string, body any, header http.Header, noAuth bool) httpResponse {
	t.Helper()
	resp, err := s.tryDo(context.Background(), method, path, body, header, noAuth)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// tryDo is the raw request returning transport errors instead of failing
// (used where the server may be killed mid-request).
func (s *server) tryDo(ctx context.Context, method, path string, body any, header http.Header, noAuth bool) (httpResponse, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return httpResponse{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return httpResponse{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.opts.APIKey != "" && !noAuth {
		req.Header.Set("Authorization", "Bearer "+s.opts.APIKey)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		return httpResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpResponse{}, fmt.Errorf("read body: %w", err)
	}
	return httpResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
