package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"strata/internal/blob/azure"
	"strata/internal/blob/gcs"
	"strata/internal/blob/s3"
)

// runMkbucket creates a bucket (container) on an object store, reading the
// endpoints and credentials from the same variables the server uses.
func runMkbucket(args []string) error {
	fs := flag.NewFlagSet("mkbucket", flag.ExitOnError)
	backend := fs.String("backend", "s3", "s3, gcs or azure")
	name := fs.String("name", "strata-bench", "bucket or container name")
	fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch *backend {
	case "s3":
		endpoint := os.Getenv("BACKUP_S3_ENDPOINT")
		if endpoint != "" && os.Getenv("BACKUP_S3_USE_SSL") == "false" {
			endpoint = "http://" + endpoint
		}
		st, err := s3.New(ctx, s3.Config{Bucket: *name, Endpoint: endpoint, Region: os.Getenv("AWS_REGION"),
			AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
		if err != nil {
			return err
		}
		return st.CreateBucket(ctx)
	case "gcs":
		st, err := gcs.New(ctx, gcs.Config{Bucket: *name, ProjectID: os.Getenv("GOOGLE_CLOUD_PROJECT"), UseAuth: os.Getenv("BACKUP_GCS_USE_AUTH") != "false"})
		if err != nil {
			return err
		}
		defer st.Close()
		return st.CreateBucket(ctx)
	case "azure":
		st, err := azure.New(ctx, azure.Config{Container: *name, ConnectionString: os.Getenv("AZURE_STORAGE_CONNECTION_STRING")})
		if err != nil {
			return err
		}
		return st.CreateContainer(ctx)
	}
	return fmt.Errorf("unknown backend %q", *backend)
}
