package config

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"strata/internal/schema"
)

// env returns a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func load(t *testing.T, args []string, vars map[string]string) (Config, error, string) {
	t.Helper()
	var stderr bytes.Buffer
	c, err := Load(args, env(vars), &stderr)
	return c, err, stderr.String()
}

func mustLoad(t *testing.T, args []string, vars map[string]string) Config {
	t.Helper()
	c, err, stderr := load(t, args, vars)
	if err != nil {
		t.Fatalf("Load(%q, %v): %v (stderr %q)", args, vars, err, stderr)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, nil, nil)
	want := Config{
		Host:                      "127.0.0.1",
		Port:                      8080,
		Scheme:                    "http",
		GRPCPort:                  50051,
		GRPCMaxMessageSize:        104858000,
		DataPath:                  "./data",
		NodeName:                  "node1",
		BackupFSPath:              "./backups",
		EnabledModules:            []string{"backup-filesystem"},
		AnonymousAccess:           true,
		QueryDefaultsLimit:        10,
		QueryDefaultsLimitGraphQL: 100,
		QueryMaximumResults:       10000,
		AutoSchema:                true,
		AutoSchemaLimits:          schema.AutoSchemaLimits{MaxDepth: 32, MaxWidth: 1000, MaxProperties: 10000},
		MaxBodyBytes:              256 << 20,
		GraphQL:                   DefaultGraphQLLimits(),
		Cluster: Cluster{GossipBindPort: 7946, DataBindPort: 7947, RaftPort: 8300, RaftInternalRPCPort: 8301,
			RaftJoin: []RaftPeer{{Name: "node1", Port: 8300}}, RaftBootstrapExpect: 1, RaftTimeoutsMultiplier: 5, BackupNodeTimeout: time.Minute,
			BackupStallTimeout: 10 * time.Minute},
		LogLevel: slog.LevelInfo,
		S3:       S3Config{UseSSL: true},
		GCS:      GCSConfig{UseAuth: true},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if !reflect.DeepEqual(Default(), want) {
		t.Fatalf("Default() = %+v", Default())
	}
	if !c.ModuleEnabled("backup-filesystem") {
		t.Error("backup-filesystem not enabled by default")
	}
	if c.ModuleEnabled("backup-s3") {
		t.Error("backup-s3 reported enabled")
	}
	if c.APIKeyEnabled || len(c.APIKeys) != 0 || len(c.UnknownModules) != 0 {
		t.Errorf("unexpected auth/modules defaults: %+v", c)
	}
}

func TestDefaultIsFreshCopy(t *testing.T) {
	a := Default()
	a.EnabledModules[0] = "changed"
	if b := Default(); b.EnabledModules[0] != "backup-filesystem" {
		t.Fatalf("Default shares its module slice: %v", b.EnabledModules)
	}
}

func TestFlags(t *testing.T) {
	c := mustLoad(t, []string{"--host", "0.0.0.0", "--port", "18080", "--scheme", "http",
		"--data-path", "/var/lib/strata", "--read-timeout", "60s", "--write-timeout=60s"}, nil)
	if c.Host != "0.0.0.0" || c.Port != 18080 || c.Scheme != "http" || c.DataPath != "/var/lib/strata" {
		t.Fatalf("flags not applied: %+v", c)
	}
	// Single-dash and = forms work too.
	c = mustLoad(t, []string{"-port=9090", "-host=::1"}, nil)
	if c.Port != 9090 || c.Host != "::1" {
		t.Fatalf("flags not applied: %+v", c)
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	c := mustLoad(t, []string{"--data-path", "/flag"}, map[string]string{"PERSISTENCE_DATA_PATH": "/env"})
	if c.DataPath != "/flag" {
		t.Fatalf("DataPath = %q, want the flag's value", c.DataPath)
	}
	c = mustLoad(t, nil, map[string]string{"PERSISTENCE_DATA_PATH": "/env"})
	if c.DataPath != "/env" {
		t.Fatalf("DataPath = %q, want the env value", c.DataPath)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port", "abc"}, "port"},
		{[]string{"--port", "70000"}, "--port: 70000 is out of range"},
		{[]string{"--port", "-1"}, "--port: -1 is out of range"},
		{[]string{"--scheme", "https"}, `--scheme: only "http" is supported, got "https"`},
		{[]string{"--grpc-port", "65536"}, "--grpc-port: 65536 is out of range"},
		{[]string{"--grpc-port", "8080"}, "--grpc-port: 8080 is the REST port too"},
		{[]string{"--nope"}, "nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err, _ := load(t, tc.args, nil)
		if err == nil {
			t.Errorf("Load(%q): no error", tc.args)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) error %q does not contain %q", tc.args, err, tc.want)
		}
	}
}

func TestEnvStrings(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"PERSISTENCE_DATA_PATH":  " /data/x ",
		"CLUSTER_HOSTNAME":       "weaviate-0",
		"BACKUP_FILESYSTEM_PATH": "/backups/y",
	})
	if c.DataPath != "/data/x" || c.NodeName != "weaviate-0" || c.BackupFSPath != "/backups/y" {
		t.Fatalf("string env not applied: %+v", c)
	}
	// Blank values keep the defaults.
	c = mustLoad(t, nil, map[string]string{"PERSISTENCE_DATA_PATH": "  ", "CLUSTER_HOSTNAME": ""})
	if c.DataPath != "./data" || c.NodeName != "node1" {
		t.Fatalf("blank env overrode defaults: %+v", c)
	}
}

func TestEnableModules(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"ENABLE_MODULES": " text2vec-openai, backup-filesystem ,,generative-openai",
	})
	if want := []string{"backup-filesystem"}; !reflect.DeepEqual(c.EnabledModules, want) {
		t.Errorf("EnabledModules = %q, want %q", c.EnabledModules, want)
	}
	if want := []string{"text2vec-openai", "generative-openai"}; !reflect.DeepEqual(c.UnknownModules, want) {
		t.Errorf("UnknownModules = %q, want %q", c.UnknownModules, want)
	}

	// Listing only unknown modules is not fatal; the explicit list replaces the default.
	c = mustLoad(t, nil, map[string]string{"ENABLE_MODULES": "text2vec-openai"})
	if len(c.EnabledModules) != 0 || c.ModuleEnabled("backup-filesystem") {
		t.Errorf("EnabledModules = %q, want none", c.EnabledModules)
	}
	if want := []string{"text2vec-openai"}; !reflect.DeepEqual(c.UnknownModules, want) {
		t.Errorf("UnknownModules = %q, want %q", c.UnknownModules, want)
	}

	// Empty or blank keeps the default.
	c = mustLoad(t, nil, map[string]string{"ENABLE_MODULES": " , "})
	if !reflect.DeepEqual(c.EnabledModules, []string{"backup-filesystem"}) || c.UnknownModules != nil {
		t.Errorf("blank ENABLE_MODULES changed modules: %+v", c)
	}
}

func TestEnvBooleans(t *testing.T) {
	vars := []struct {
		name string
		get  func(Config) bool
	}{
		{"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", func(c Config) bool { return c.AnonymousAccess }},
		{"AUTOSCHEMA_ENABLED", func(c Config) bool { return c.AutoSchema }},
		{"AUTHENTICATION_APIKEY_ENABLED", func(c Config) bool { return c.APIKeyEnabled }},
	}
	values := map[string]bool{
		"true": true, "TRUE": true, "True": true, "1": true, "t": true, "on": true, "yes": true, "enabled": true,
		"false": false, "FALSE": false, "0": false, "f": false, "off": false, "No": false, "disabled": false,
	}
	for _, v := range vars {
		for s, want := range values {
			m := map[string]string{v.name: " " + s + " "}
			if v.name == "AUTHENTICATION_APIKEY_ENABLED" {
				m["AUTHENTICATION_APIKEY_ALLOWED_KEYS"] = "k"
			}
			c, err, _ := load(t, nil, m)
			if err != nil {
				t.Errorf("%s=%q: %v", v.name, s, err)
				continue
			}
			if got := v.get(c); got != want {
				t.Errorf("%s=%q: got %v, want %v", v.name, s, got, want)
			}
		}
		_, err, _ := load(t, nil, map[string]string{v.name: "maybe"})
		if err == nil {
			t.Errorf("%s=maybe: no error", v.name)
		} else if !strings.Contains(err.Error(), v.name) || !strings.Contains(err.Error(), `"maybe"`) {
			t.Errorf("%s=maybe: error %q does not name the variable and value", v.name, err)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ENABLED":           "true",
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS":      "key1, key2",
		"AUTHENTICATION_APIKEY_USERS":             "alice,bob",
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "false",
	})
	if !c.APIKeyEnabled || c.AnonymousAccess {
		t.Fatalf("auth flags: %+v", c)
	}
	if !reflect.DeepEqual(c.APIKeys, []string{"key1", "key2"}) || !reflect.DeepEqual(c.APIKeyUsers, []string{"alice", "bob"}) {
		t.Fatalf("keys/users: %q %q", c.APIKeys, c.APIKeyUsers)
	}

	// One user for many keys is allowed.
	c = mustLoad(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ENABLED":      "true",
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS": "a,b,c",
		"AUTHENTICATION_APIKEY_USERS":        "admin",
	})
	if len(c.APIKeys) != 3 || len(c.APIKeyUsers) != 1 {
		t.Fatalf("keys/users: %q %q", c.APIKeys, c.APIKeyUsers)
	}

	// Enabled without keys.
	_, err, _ := load(t, nil, map[string]string{"AUTHENTICATION_APIKEY_ENABLED": "true"})
	if err == nil || !strings.Contains(err.Error(), "AUTHENTICATION_APIKEY_ALLOWED_KEYS") {
		t.Errorf("enabled without keys: err = %v", err)
	}
	// Users count mismatch.
	_, err, _ = load(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ENABLED":      "true",
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS": "a,b,c",
		"AUTHENTICATION_APIKEY_USERS":        "x,y",
	})
	if err == nil || !strings.Contains(err.Error(), "AUTHENTICATION_APIKEY_USERS") {
		t.Errorf("users mismatch: err = %v", err)
	}
	// With API keys disabled the key settings are not checked (as in Weaviate).
	c = mustLoad(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS": "a,b,c",
		"AUTHENTICATION_APIKEY_USERS":        "x,y",
	})
	if c.APIKeyEnabled {
		t.Errorf("APIKeyEnabled = true")
	}
}

func TestGRPC(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{"GRPC_PORT": " 50052 ", "GRPC_MAX_MESSAGE_SIZE": "1048576"})
	if c.GRPCPort != 50052 || c.GRPCMaxMessageSize != 1<<20 {
		t.Fatalf("gRPC env not applied: port %d, max message %d", c.GRPCPort, c.GRPCMaxMessageSize)
	}
	c = mustLoad(t, []string{"--grpc-port", "50060"}, map[string]string{"GRPC_PORT": "50052"})
	if c.GRPCPort != 50060 {
		t.Fatalf("--grpc-port = %d, want the flag's value over GRPC_PORT", c.GRPCPort)
	}
	c = mustLoad(t, []string{"--port", "0", "--grpc-port=0"}, nil)
	if c.GRPCPort != 0 {
		t.Fatalf("--grpc-port=0 (any free port) = %d", c.GRPCPort)
	}
	for _, bad := range []string{"abc", "-1", "65536", "1.5"} {
		_, err, _ := load(t, nil, map[string]string{"GRPC_PORT": bad})
		if err == nil || !strings.Contains(err.Error(), "GRPC_PORT") || !strings.Contains(err.Error(), bad) {
			t.Errorf("GRPC_PORT=%q: err = %v, want one naming the variable and value", bad, err)
		}
	}
	_, err, _ := load(t, nil, map[string]string{"GRPC_MAX_MESSAGE_SIZE": "0"})
	if err == nil || !strings.Contains(err.Error(), "GRPC_MAX_MESSAGE_SIZE") {
		t.Errorf("GRPC_MAX_MESSAGE_SIZE=0: err = %v", err)
	}
}

func TestAcceptsKey(t *testing.T) {
	open := mustLoad(t, nil, map[string]string{"AUTHENTICATION_APIKEY_ALLOWED_KEYS": "k1"})
	if !open.AuthOpen() || open.AcceptsKey("k1") {
		t.Errorf("API keys off: AuthOpen %v, AcceptsKey(k1) %v; want true, false", open.AuthOpen(), open.AcceptsKey("k1"))
	}
	c := mustLoad(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ENABLED":      "true",
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS": "k1,k2",
	})
	if c.AuthOpen() {
		t.Error("API keys on: AuthOpen = true")
	}
	for key, want := range map[string]bool{"k1": true, "k2": true, "k3": false, "": false, "k1 ": false, "K1": false} {
		if got := c.AcceptsKey(key); got != want {
			t.Errorf("AcceptsKey(%q) = %v, want %v", key, got, want)
		}
	}
	anon := mustLoad(t, nil, map[string]string{
		"AUTHENTICATION_APIKEY_ENABLED":           "true",
		"AUTHENTICATION_APIKEY_ALLOWED_KEYS":      "k1",
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
	})
	if anon.AuthOpen() {
		t.Error("API keys on with anonymous access: AuthOpen = true (a wrong key must still be refused)")
	}
}

func TestEnvNumbers(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"QUERY_DEFAULTS_LIMIT":         "25",
		"QUERY_DEFAULTS_LIMIT_GRAPHQL": " 50 ",
		"QUERY_MAXIMUM_RESULTS":        "200000",
		"STRATA_MAX_BODY_BYTES":        "1048576",
	})
	if c.QueryDefaultsLimit != 25 || c.QueryDefaultsLimitGraphQL != 50 || c.QueryMaximumResults != 200000 || c.MaxBodyBytes != 1<<20 {
		t.Fatalf("numbers not applied: %+v", c)
	}
	for _, name := range []string{"QUERY_DEFAULTS_LIMIT", "QUERY_DEFAULTS_LIMIT_GRAPHQL", "QUERY_MAXIMUM_RESULTS", "STRATA_MAX_BODY_BYTES"} {
		for _, bad := range []string{"abc", "0", "-5", "1.5", "10k"} {
			_, err, _ := load(t, nil, map[string]string{name: bad})
			if err == nil {
				t.Errorf("%s=%q: no error", name, bad)
				continue
			}
			if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), bad) {
				t.Errorf("%s=%q: error %q does not name the variable and value", name, bad, err)
			}
		}
	}
}

func TestGraphQLLimits(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"STRATA_GRAPHQL_MAX_BODY_BYTES":          "1024",
		"STRATA_GRAPHQL_MAX_TOKENS":              "11",
		"STRATA_GRAPHQL_MAX_SELECTIONS":          "12",
		"STRATA_GRAPHQL_MAX_DEPTH":               "13",
		"STRATA_GRAPHQL_MAX_QUERIES":             "14",
		"STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST": "15",
	})
	want := GraphQLLimits{MaxBodyBytes: 1024, MaxTokens: 11, MaxSelections: 12, MaxDepth: 13, MaxQueries: 14, MaxResultsPerRequest: 15}
	if c.GraphQL != want {
		t.Fatalf("GraphQL limits = %+v, want %+v", c.GraphQL, want)
	}
	// Unset, the per-request results limit follows QUERY_MAXIMUM_RESULTS.
	if c := mustLoad(t, nil, map[string]string{"QUERY_MAXIMUM_RESULTS": "50000"}); c.GraphQL.MaxResultsPerRequest != 50000 {
		t.Errorf("MaxResultsPerRequest = %d, want QUERY_MAXIMUM_RESULTS (50000)", c.GraphQL.MaxResultsPerRequest)
	}
	for _, name := range []string{"STRATA_GRAPHQL_MAX_BODY_BYTES", "STRATA_GRAPHQL_MAX_TOKENS", "STRATA_GRAPHQL_MAX_SELECTIONS",
		"STRATA_GRAPHQL_MAX_DEPTH", "STRATA_GRAPHQL_MAX_QUERIES", "STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST"} {
		for _, bad := range []string{"abc", "0", "-5"} {
			_, err, _ := load(t, nil, map[string]string{name: bad})
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), bad) {
				t.Errorf("%s=%q: error %v does not name the variable and value", name, bad, err)
			}
		}
	}
}

func TestLogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"trace": slog.LevelDebug, "debug": slog.LevelDebug, "DEBUG": slog.LevelDebug,
		"info": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn,
		"error": slog.LevelError, "fatal": slog.LevelError, "panic": slog.LevelError,
	} {
		c := mustLoad(t, nil, map[string]string{"LOG_LEVEL": in})
		if c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%q: %v, want %v", in, c.LogLevel, want)
		}
	}
	_, err, _ := load(t, nil, map[string]string{"LOG_LEVEL": "loud"})
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || !strings.Contains(err.Error(), "loud") {
		t.Fatalf("LOG_LEVEL=loud: err = %v", err)
	}
}

func TestErrorReturnsZeroConfig(t *testing.T) {
	c, err, _ := load(t, nil, map[string]string{"QUERY_MAXIMUM_RESULTS": "abc"})
	if err == nil {
		t.Fatal("no error")
	}
	if !reflect.DeepEqual(c, Config{}) {
		t.Fatalf("config on error = %+v, want zero", c)
	}
}

func TestHelpWritesUsageToStderr(t *testing.T) {
	_, err, stderr := load(t, []string{"-h"}, nil)
	if err == nil {
		t.Fatal("-h: no error")
	}
	if !strings.Contains(stderr, "-data-path") {
		t.Fatalf("usage not written to stderr: %q", stderr)
	}
}

func TestCloudBackendVariables(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"ENABLE_MODULES":   "backup-s3,backup-gcs,backup-azure",
		"BACKUP_S3_BUCKET": "b", "BACKUP_S3_PATH": "p/q", "BACKUP_S3_ENDPOINT": "127.0.0.1:7070", "BACKUP_S3_USE_SSL": "False",
		"AWS_ACCESS_KEY": "k", "AWS_SECRET_KEY": "s", "AWS_DEFAULT_REGION": "eu-west-1",
		"BACKUP_GCS_BUCKET": "g", "BACKUP_GCS_USE_AUTH": "false", "GCLOUD_PROJECT": "proj",
		"BACKUP_AZURE_CONTAINER": "c", "AZURE_STORAGE_ACCOUNT": "acct", "AZURE_BLOCK_SIZE": "1048576",
	})
	want := S3Config{Bucket: "b", Path: "p/q", Endpoint: "127.0.0.1:7070", UseSSL: false, AccessKeyID: "k", SecretAccessKey: "s", Region: "eu-west-1"}
	if c.S3 != want {
		t.Errorf("S3 = %+v, want %+v", c.S3, want)
	}
	if c.GCS != (GCSConfig{Bucket: "g", UseAuth: false, ProjectID: "proj"}) {
		t.Errorf("GCS = %+v", c.GCS)
	}
	if c.Azure.Container != "c" || c.Azure.Account != "acct" || c.Azure.BlockSize != 1<<20 {
		t.Errorf("Azure = %+v", c.Azure)
	}
	for _, tc := range []struct {
		vars map[string]string
		name string
	}{
		{map[string]string{"ENABLE_MODULES": "backup-s3"}, "BACKUP_S3_BUCKET"},
		{map[string]string{"ENABLE_MODULES": "backup-gcs"}, "BACKUP_GCS_BUCKET"},
		{map[string]string{"ENABLE_MODULES": "backup-azure"}, "BACKUP_AZURE_CONTAINER"},
		{map[string]string{"ENABLE_MODULES": "backup-azure", "BACKUP_AZURE_CONTAINER": "c"}, "AZURE_STORAGE_CONNECTION_STRING"},
		{map[string]string{"AZURE_CONCURRENCY": "many"}, "AZURE_CONCURRENCY"},
	} {
		_, err, _ := load(t, nil, tc.vars)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: got %v, want an error naming %s", tc.vars, err, tc.name)
		}
	}
}
