package main

import (
	"context"
	"fmt"
	"log/slog"
	"path"

	"strata/internal/backup"
	"strata/internal/blob"
	"strata/internal/blob/azure"
	"strata/internal/blob/gcs"
	"strata/internal/blob/retry"
	"strata/internal/blob/s3"
	"strata/internal/config"
)

// backupBackends builds the enabled backup backends from the configuration.
func backupBackends(ctx context.Context, cfg config.Config, log *slog.Logger) ([]backup.Backend, error) {
	var out []backup.Backend
	if cfg.ModuleEnabled("backup-filesystem") {
		fsb, err := backup.NewFilesystem(cfg.BackupFSPath)
		if err != nil {
			return nil, err
		}
		out = append(out, fsb)
	}
	if cfg.ModuleEnabled("backup-s3") {
		c := cfg.S3
		meta := map[string]any{"bucketName": c.Bucket, "endpoint": c.Endpoint, "useSSL": c.UseSSL}
		if c.Path != "" {
			meta["rootName"] = c.Path
		}
		out = append(out, backup.NewCloud(backup.CloudConfig{
			Name: "s3", Bucket: c.Bucket, Root: c.Path, Meta: meta, BucketWord: "bucket",
			Open: func(bucket string) (blob.Store, error) {
				st, err := s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: c.Endpoint, UseSSL: c.UseSSL, Region: c.Region,
					AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken})
				return withRetries(st, err)
			},
			Home: func(bucket, root, id string, _, _ bool) string { return "s3://" + path.Join(bucket, root, id) },
		}))
	}
	if cfg.ModuleEnabled("backup-gcs") {
		c := cfg.GCS
		meta := map[string]any{"bucketName": c.Bucket}
		if c.Path != "" {
			meta["rootName"] = c.Path
		}
		out = append(out, backup.NewCloud(backup.CloudConfig{
			Name: "gcs", Bucket: c.Bucket, Root: c.Path, Meta: meta, BucketWord: "bucket",
			Open: func(bucket string) (blob.Store, error) {
				st, err := gcs.New(ctx, gcs.Config{Bucket: bucket, ProjectID: c.ProjectID, UseAuth: c.UseAuth})
				return withRetries(st, err)
			},
			Home: func(bucket, root, id string, bucketOverridden, pathOverridden bool) string {
				if pathOverridden && !bucketOverridden {
					return "gs://" + path.Join(root, id) // Weaviate drops the bucket here
				}
				return "gs://" + path.Join(bucket, root, id)
			},
		}))
	}
	if cfg.ModuleEnabled("backup-azure") {
		c := cfg.Azure
		meta := map[string]any{"containerName": c.Container}
		if c.Path != "" {
			meta["rootName"] = c.Path
		}
		open := func(container string) (*azure.Store, error) {
			return azure.New(ctx, azure.Config{Container: container, ConnectionString: c.ConnectionString,
				AccountName: c.Account, AccountKey: c.Key, BlockSize: c.BlockSize, Concurrency: c.Concurrency})
		}
		first, err := open(c.Container)
		if err != nil {
			return nil, fmt.Errorf("backup-azure: %w", err)
		}
		serviceURL := first.ServiceURL()
		out = append(out, backup.NewCloud(backup.CloudConfig{
			Name: "azure", Bucket: c.Container, Root: c.Path, Meta: meta, BucketWord: "container",
			Open: func(container string) (blob.Store, error) {
				if container == c.Container {
					return withRetries(first, nil)
				}
				return withRetries(open(container))
			},
			Home: func(container, root, id string, _, _ bool) string { return serviceURL + path.Join(container, root, id) },
		}))
	}
	for _, b := range out {
		// Open the configured location now, so a misconfiguration stops start-up.
		if _, err := b.Locate("", ""); err != nil {
			return nil, fmt.Errorf("backup-%s: %w", b.Name(), err)
		}
		log.Info("backup backend enabled", "backend", b.Name())
	}
	return out, nil
}

// withRetries wraps a cloud store in the retry decorator.
func withRetries[S blob.Store](st S, err error) (blob.Store, error) {
	if err != nil {
		return nil, err
	}
	return retry.Wrap(st, retry.Policy{}), nil
}
