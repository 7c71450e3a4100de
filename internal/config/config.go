// Package config owns Strata's typed configuration: it is filled once at
// start-up from command-line flags and Weaviate-compatible environment
// variables. Nothing else in the server reads the environment.
package config

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"strata/internal/backup/layout"
	"strata/internal/schema"
)

// Config is the complete server configuration.
type Config struct {
	Host   string // REST listen host (the gRPC server listens on it too)
	Port   int    // REST listen port
	Scheme string // only "http" is served

	GRPCPort           int // GRPC_PORT, --grpc-port: gRPC listen port
	GRPCMaxMessageSize int // GRPC_MAX_MESSAGE_SIZE: largest gRPC message, in bytes, either way

	DataPath       string // PERSISTENCE_DATA_PATH
	NodeName       string // CLUSTER_HOSTNAME
	BackupFSPath   string // BACKUP_FILESYSTEM_PATH
	EnabledModules []string
	UnknownModules []string // names in ENABLE_MODULES Strata does not provide (logged)

	AnonymousAccess bool     // AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED
	APIKeyEnabled   bool     // AUTHENTICATION_APIKEY_ENABLED
	APIKeys         []string // AUTHENTICATION_APIKEY_ALLOWED_KEYS
	APIKeyUsers     []string // AUTHENTICATION_APIKEY_USERS

	QueryDefaultsLimit        int // QUERY_DEFAULTS_LIMIT (REST list)
	QueryDefaultsLimitGraphQL int // QUERY_DEFAULTS_LIMIT_GRAPHQL
	QueryMaximumResults       int // QUERY_MAXIMUM_RESULTS
	AutoSchema                bool
	// AutoSchemaLimits: STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH (at most
	// schema.MaxNestingDepth), STRATA_AUTOSCHEMA_MAX_OBJECT_PROPERTIES,
	// STRATA_AUTOSCHEMA_MAX_CLASS_PROPERTIES.
	AutoSchemaLimits schema.AutoSchemaLimits
	// MaxActiveShards: STRATA_MAX_ACTIVE_SHARDS, the shard stores open at
	// once; 0 = computed from the file limit (db.DefaultMaxActiveShards).
	MaxActiveShards int
	MaxBodyBytes    int64 // STRATA_MAX_BODY_BYTES: larger request bodies get 413
	// BackupKeepLast and BackupKeepWithin are the retention policy applied
	// to a backend after each successful backup:
	// STRATA_BACKUP_RETENTION_KEEP_LAST (the newest successful backups to
	// keep) and STRATA_BACKUP_RETENTION_KEEP_WITHIN (keep every backup
	// started within, "36h" or "30d"). Unset: backups are kept.
	BackupKeepLast   int
	BackupKeepWithin time.Duration
	// BackupSchedule is a cron schedule of backups (STRATA_BACKUP_SCHEDULE,
	// "" = none), their id pattern (STRATA_BACKUP_SCHEDULE_ID, with
	// {time}), backend (STRATA_BACKUP_SCHEDULE_BACKEND) and classes
	// (STRATA_BACKUP_SCHEDULE_INCLUDE / _EXCLUDE, comma-separated).
	BackupSchedule                               string
	BackupScheduleID, BackupScheduleBackend      string
	BackupScheduleInclude, BackupScheduleExclude []string
	// BackupEncryptionKey / BackupEncryptionKeyFile hold the key that
	// encrypts backups (STRATA_BACKUP_ENCRYPTION_KEY, or the file named by
	// STRATA_BACKUP_ENCRYPTION_KEY_FILE): 32 bytes in hex or base64.
	BackupEncryptionKey, BackupEncryptionKeyFile string
	GraphQL                                      GraphQLLimits
	Cluster                                      Cluster

	LogLevel slog.Level // LOG_LEVEL

	DebugAddr string // STRATA_DEBUG_ADDR: serve net/http/pprof here ("" = off)

	S3    S3Config    // backup-s3
	GCS   GCSConfig   // backup-gcs
	Azure AzureConfig // backup-azure
}

// GraphQLLimits bound the cost of one GraphQL request (docs/limits.md).
type GraphQLLimits struct {
	MaxBodyBytes int64 // STRATA_GRAPHQL_MAX_BODY_BYTES: larger /v1/graphql bodies get 413
	MaxTokens    int   // STRATA_GRAPHQL_MAX_TOKENS: lexical tokens in the query text
	// MaxSelections bounds the fields, fragment spreads and inline fragments
	// visited while expanding fragments (STRATA_GRAPHQL_MAX_SELECTIONS).
	MaxSelections int
	MaxDepth      int // STRATA_GRAPHQL_MAX_DEPTH: nesting of selected fields
	MaxQueries    int // STRATA_GRAPHQL_MAX_QUERIES: Get and Aggregate class fields (aliases count)
	// MaxResultsPerRequest bounds offset+limit summed over all Get fields
	// (STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST; default: QUERY_MAXIMUM_RESULTS).
	MaxResultsPerRequest int
}

// DefaultGraphQLLimits are the GraphQL limits when no variable sets them.
func DefaultGraphQLLimits() GraphQLLimits {
	return GraphQLLimits{
		MaxBodyBytes:         4 << 20,
		MaxTokens:            100000,
		MaxSelections:        10000,
		MaxDepth:             100,
		MaxQueries:           100,
		MaxResultsPerRequest: 10000,
	}
}

// S3Config configures the backup-s3 backend (Weaviate's variables).
type S3Config struct {
	Bucket          string // BACKUP_S3_BUCKET (required)
	Path            string // BACKUP_S3_PATH
	Endpoint        string // BACKUP_S3_ENDPOINT: host[:port], "" = AWS
	UseSSL          bool   // BACKUP_S3_USE_SSL (default true)
	AccessKeyID     string // AWS_ACCESS_KEY_ID or AWS_ACCESS_KEY
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY or AWS_SECRET_KEY
	SessionToken    string // AWS_SESSION_TOKEN
	Region          string // AWS_REGION or AWS_DEFAULT_REGION
}

// GCSConfig configures the backup-gcs backend.
type GCSConfig struct {
	Bucket    string // BACKUP_GCS_BUCKET (required)
	Path      string // BACKUP_GCS_PATH
	UseAuth   bool   // BACKUP_GCS_USE_AUTH (default true)
	ProjectID string // GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT or GCP_PROJECT
}

// AzureConfig configures the backup-azure backend.
type AzureConfig struct {
	Container        string // BACKUP_AZURE_CONTAINER (required)
	Path             string // BACKUP_AZURE_PATH
	ConnectionString string // AZURE_STORAGE_CONNECTION_STRING
	Account          string // AZURE_STORAGE_ACCOUNT
	Key              string // AZURE_STORAGE_KEY
	BlockSize        int64  // AZURE_BLOCK_SIZE (bytes)
	Concurrency      int    // AZURE_CONCURRENCY
}

// KnownModules are the module names Strata provides.
var KnownModules = map[string]bool{
	"backup-filesystem": true,
	"backup-s3":         true,
	"backup-gcs":        true,
	"backup-azure":      true,
}

// Default returns the embedded default configuration: data in ./data,
// filesystem backups in ./backups, 127.0.0.1:8080, anonymous access.
func Default() Config {
	return Config{
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
		AutoSchemaLimits:          schema.DefaultAutoSchemaLimits(),
		MaxBodyBytes:              256 << 20,
		GraphQL:                   DefaultGraphQLLimits(),
		Cluster:                   defaultCluster(),
		LogLevel:                  slog.LevelInfo,
		S3:                        S3Config{UseSSL: true},
		GCS:                       GCSConfig{UseAuth: true},
	}
}

// ModuleEnabled reports whether the named module is enabled.
func (c Config) ModuleEnabled(name string) bool {
	for _, m := range c.EnabledModules {
		if m == name {
			return true
		}
	}
	return false
}

// AuthOpen reports whether every request is allowed without a key (API
// keys off and anonymous access on).
func (c Config) AuthOpen() bool { return !c.APIKeyEnabled && c.AnonymousAccess }

// AcceptsKey reports whether token is one of the allowed API keys. It
// compares in constant time and is false while API keys are off.
func (c Config) AcceptsKey(token string) bool {
	if !c.APIKeyEnabled || token == "" {
		return false
	}
	valid := false
	for _, k := range c.APIKeys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(token)) == 1 {
			valid = true
		}
	}
	return valid
}

// Load builds the configuration for `strata serve` from args (flags, without
// the sub-command) and getenv. A malformed value is an error naming the
// flag or variable.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Default()
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Host, "host", c.Host, "host to listen on")
	fs.IntVar(&c.Port, "port", c.Port, "port to listen on")
	fs.StringVar(&c.Scheme, "scheme", c.Scheme, "scheme to serve (http)")
	fs.IntVar(&c.GRPCPort, "grpc-port", c.GRPCPort, "gRPC port to listen on, on the same host (GRPC_PORT)")
	fs.StringVar(&c.DataPath, "data-path", c.DataPath, "data directory (PERSISTENCE_DATA_PATH)")
	// Weaviate images pass these; accept and ignore them.
	fs.String("read-timeout", "", "accepted for compatibility, ignored")
	fs.String("write-timeout", "", "accepted for compatibility, ignored")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Scheme != "http" {
		return Config{}, fmt.Errorf("--scheme: only \"http\" is supported, got %q", c.Scheme)
	}
	if c.Port < 0 || c.Port > 65535 {
		return Config{}, fmt.Errorf("--port: %d is out of range", c.Port)
	}
	if c.GRPCPort < 0 || c.GRPCPort > 65535 {
		return Config{}, fmt.Errorf("--grpc-port: %d is out of range", c.GRPCPort)
	}
	if c.GRPCPort != 0 && c.GRPCPort == c.Port {
		return Config{}, fmt.Errorf("--grpc-port: %d is the REST port too; give gRPC its own port", c.GRPCPort)
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	boolean := func(name string, dst *bool) error {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			switch strings.ToLower(v) {
			case "on", "yes", "enabled":
				b = true
			case "off", "no", "disabled":
				b = false
			default:
				return fmt.Errorf("%s: %q is not a boolean (use true or false)", name, v)
			}
		}
		*dst = b
		return nil
	}
	port := func(name string, dst *int) error {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("%s: %q is not a port number (0-65535)", name, v)
		}
		*dst = n
		return nil
	}
	positive := func(name string, dst *int) error {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: %q is not a positive whole number", name, v)
		}
		*dst = n
		return nil
	}
	list := func(name string) []string {
		var out []string
		for _, p := range strings.Split(getenv(name), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}

	str("PERSISTENCE_DATA_PATH", &c.DataPath)
	str("CLUSTER_HOSTNAME", &c.NodeName)
	// The node name is a path segment of every backup: the backup id rule's
	// sibling applies, so that it cannot lead into another backup.
	if err := layout.CheckNode(c.NodeName); err != nil {
		return fmt.Errorf("CLUSTER_HOSTNAME: %w", err)
	}
	str("BACKUP_FILESYSTEM_PATH", &c.BackupFSPath)
	str("STRATA_DEBUG_ADDR", &c.DebugAddr)
	if mods := list("ENABLE_MODULES"); len(mods) > 0 {
		c.EnabledModules = nil
		for _, m := range mods {
			if KnownModules[m] {
				c.EnabledModules = append(c.EnabledModules, m)
			} else {
				c.UnknownModules = append(c.UnknownModules, m)
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", &c.AnonymousAccess},
		{"AUTHENTICATION_APIKEY_ENABLED", &c.APIKeyEnabled},
		{"AUTOSCHEMA_ENABLED", &c.AutoSchema},
	} {
		if err := boolean(b.name, b.dst); err != nil {
			return err
		}
	}
	if c.APIKeyEnabled && strings.TrimSpace(getenv("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED")) == "" {
		// With API keys on, anonymous access is off unless asked for explicitly.
		c.AnonymousAccess = false
	}
	c.APIKeys = list("AUTHENTICATION_APIKEY_ALLOWED_KEYS")
	c.APIKeyUsers = list("AUTHENTICATION_APIKEY_USERS")
	if c.APIKeyEnabled && len(c.APIKeys) == 0 {
		return fmt.Errorf("AUTHENTICATION_APIKEY_ALLOWED_KEYS: must list at least one key when AUTHENTICATION_APIKEY_ENABLED is true")
	}
	if c.APIKeyEnabled && len(c.APIKeyUsers) > 1 && len(c.APIKeyUsers) != len(c.APIKeys) {
		return fmt.Errorf("AUTHENTICATION_APIKEY_USERS: has %d entries, expected 1 or as many as AUTHENTICATION_APIKEY_ALLOWED_KEYS (%d)", len(c.APIKeyUsers), len(c.APIKeys))
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"QUERY_DEFAULTS_LIMIT", &c.QueryDefaultsLimit},
		{"QUERY_DEFAULTS_LIMIT_GRAPHQL", &c.QueryDefaultsLimitGraphQL},
		{"QUERY_MAXIMUM_RESULTS", &c.QueryMaximumResults},
		{"GRPC_MAX_MESSAGE_SIZE", &c.GRPCMaxMessageSize},
		{"STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH", &c.AutoSchemaLimits.MaxDepth},
		{"STRATA_AUTOSCHEMA_MAX_OBJECT_PROPERTIES", &c.AutoSchemaLimits.MaxWidth},
		{"STRATA_AUTOSCHEMA_MAX_CLASS_PROPERTIES", &c.AutoSchemaLimits.MaxProperties},
		{"STRATA_MAX_ACTIVE_SHARDS", &c.MaxActiveShards},
	} {
		if err := positive(p.name, p.dst); err != nil {
			return err
		}
	}
	if d := c.AutoSchemaLimits.MaxDepth; d > schema.MaxNestingDepth {
		return fmt.Errorf("STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH: %d is more than the %d levels a class can nest", d, schema.MaxNestingDepth)
	}
	for _, l := range []struct {
		name string
		n    int
	}{
		{"STRATA_AUTOSCHEMA_MAX_OBJECT_PROPERTIES", c.AutoSchemaLimits.MaxWidth},
		{"STRATA_AUTOSCHEMA_MAX_CLASS_PROPERTIES", c.AutoSchemaLimits.MaxProperties},
	} {
		if l.n > schema.MaxClassProperties {
			return fmt.Errorf("%s: %d is more than the %d properties a class can have", l.name, l.n, schema.MaxClassProperties)
		}
	}
	if err := port("GRPC_PORT", &c.GRPCPort); err != nil {
		return err
	}
	if err := c.applyBackendEnv(getenv, str, boolean); err != nil {
		return err
	}
	if v := strings.TrimSpace(getenv("STRATA_MAX_BODY_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("STRATA_MAX_BODY_BYTES: %q is not a positive whole number", v)
		}
		c.MaxBodyBytes = n
	}
	if err := positive("STRATA_BACKUP_RETENTION_KEEP_LAST", &c.BackupKeepLast); err != nil {
		return err
	}
	str("STRATA_BACKUP_ENCRYPTION_KEY", &c.BackupEncryptionKey)
	str("STRATA_BACKUP_ENCRYPTION_KEY_FILE", &c.BackupEncryptionKeyFile)
	if c.BackupEncryptionKey != "" && c.BackupEncryptionKeyFile != "" {
		return fmt.Errorf("STRATA_BACKUP_ENCRYPTION_KEY and STRATA_BACKUP_ENCRYPTION_KEY_FILE are both set: give the key once")
	}
	str("STRATA_BACKUP_SCHEDULE", &c.BackupSchedule)
	str("STRATA_BACKUP_SCHEDULE_ID", &c.BackupScheduleID)
	str("STRATA_BACKUP_SCHEDULE_BACKEND", &c.BackupScheduleBackend)
	c.BackupScheduleInclude = list("STRATA_BACKUP_SCHEDULE_INCLUDE")
	c.BackupScheduleExclude = list("STRATA_BACKUP_SCHEDULE_EXCLUDE")
	if v := strings.TrimSpace(getenv("STRATA_BACKUP_RETENTION_KEEP_WITHIN")); v != "" {
		d, err := ParseWindow(v)
		if err != nil {
			return fmt.Errorf("STRATA_BACKUP_RETENTION_KEEP_WITHIN: %w", err)
		}
		c.BackupKeepWithin = d
	}
	if err := c.applyGraphQLEnv(getenv, positive); err != nil {
		return err
	}
	if err := c.applyClusterEnv(getenv, port, positive, list, str); err != nil {
		return err
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		switch strings.ToLower(v) {
		case "trace", "debug":
			c.LogLevel = slog.LevelDebug
		case "info":
			c.LogLevel = slog.LevelInfo
		case "warn", "warning":
			c.LogLevel = slog.LevelWarn
		case "error", "fatal", "panic":
			c.LogLevel = slog.LevelError
		default:
			return fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warning, error", v)
		}
	}
	return nil
}

// applyGraphQLEnv reads the GraphQL limits. The per-request results limit
// follows QUERY_MAXIMUM_RESULTS unless set, so one Get at the maximum is
// always allowed by default.
func (c *Config) applyGraphQLEnv(getenv func(string) string, positive func(string, *int) error) error {
	c.GraphQL.MaxResultsPerRequest = c.QueryMaximumResults
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"STRATA_GRAPHQL_MAX_TOKENS", &c.GraphQL.MaxTokens},
		{"STRATA_GRAPHQL_MAX_SELECTIONS", &c.GraphQL.MaxSelections},
		{"STRATA_GRAPHQL_MAX_DEPTH", &c.GraphQL.MaxDepth},
		{"STRATA_GRAPHQL_MAX_QUERIES", &c.GraphQL.MaxQueries},
		{"STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST", &c.GraphQL.MaxResultsPerRequest},
	} {
		if err := positive(p.name, p.dst); err != nil {
			return err
		}
	}
	if v := strings.TrimSpace(getenv("STRATA_GRAPHQL_MAX_BODY_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("STRATA_GRAPHQL_MAX_BODY_BYTES: %q is not a positive whole number", v)
		}
		c.GraphQL.MaxBodyBytes = n
	}
	return nil
}

// firstSet returns the first non-empty variable of names.
func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// applyBackendEnv reads the cloud backends' variables; an enabled backend
// that lacks a required one is an error naming it.
func (c *Config) applyBackendEnv(getenv func(string) string, str func(string, *string), boolean func(string, *bool) error) error {
	str("BACKUP_S3_BUCKET", &c.S3.Bucket)
	str("BACKUP_S3_PATH", &c.S3.Path)
	str("BACKUP_S3_ENDPOINT", &c.S3.Endpoint)
	if v := strings.TrimSpace(getenv("BACKUP_S3_USE_SSL")); v != "" {
		c.S3.UseSSL = !strings.EqualFold(v, "false")
	}
	c.S3.AccessKeyID = firstSet(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	c.S3.SecretAccessKey = firstSet(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	c.S3.SessionToken = firstSet(getenv, "AWS_SESSION_TOKEN")
	c.S3.Region = firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")

	str("BACKUP_GCS_BUCKET", &c.GCS.Bucket)
	str("BACKUP_GCS_PATH", &c.GCS.Path)
	if err := boolean("BACKUP_GCS_USE_AUTH", &c.GCS.UseAuth); err != nil {
		return err
	}
	c.GCS.ProjectID = firstSet(getenv, "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT")

	str("BACKUP_AZURE_CONTAINER", &c.Azure.Container)
	str("BACKUP_AZURE_PATH", &c.Azure.Path)
	c.Azure.ConnectionString = firstSet(getenv, "AZURE_STORAGE_CONNECTION_STRING")
	c.Azure.Account = firstSet(getenv, "AZURE_STORAGE_ACCOUNT")
	c.Azure.Key = firstSet(getenv, "AZURE_STORAGE_KEY")
	for _, v := range []struct {
		name string
		set  func(int64)
	}{
		{"AZURE_BLOCK_SIZE", func(n int64) { c.Azure.BlockSize = n }},
		{"AZURE_CONCURRENCY", func(n int64) { c.Azure.Concurrency = int(n) }},
	} {
		if s := strings.TrimSpace(getenv(v.name)); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("%s: %q is not a positive whole number", v.name, s)
			}
			v.set(n)
		}
	}

	if c.ModuleEnabled("backup-s3") && c.S3.Bucket == "" {
		return fmt.Errorf("BACKUP_S3_BUCKET: must be set when backup-s3 is enabled in ENABLE_MODULES")
	}
	if c.ModuleEnabled("backup-gcs") && c.GCS.Bucket == "" {
		return fmt.Errorf("BACKUP_GCS_BUCKET: must be set when backup-gcs is enabled in ENABLE_MODULES")
	}
	if c.ModuleEnabled("backup-azure") {
		if c.Azure.Container == "" {
			return fmt.Errorf("BACKUP_AZURE_CONTAINER: must be set when backup-azure is enabled in ENABLE_MODULES")
		}
		if c.Azure.ConnectionString == "" && c.Azure.Account == "" {
			return fmt.Errorf("AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT: one must be set when backup-azure is enabled in ENABLE_MODULES")
		}
	}
	return nil
}

// ParseWindow parses a retention window: a Go duration ("36h") or a
// number of days ("30d").
func ParseWindow(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is neither a duration (36h) nor a number of days (30d)", s)
	}
	return d, nil
}
