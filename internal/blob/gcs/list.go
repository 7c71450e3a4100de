package gcs

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"strata/internal/blob"
)

// listFields are the only object fields List asks GCS for.
var listFields = []string{"Name", "Size", "Updated", "Created"}

// List pages through the bucket's flat listing, which GCS returns in
// lexical (byte-wise UTF-8) name order, and calls fn as it goes. Object
// names that are not valid keys, such as the "dir/" placeholders the Cloud
// Console creates for folders, are skipped: no Store method could address
// them.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(ctx, "list", prefix, err)
	}
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection(listFields); err != nil {
		return fmt.Errorf("%s: list %q: %w", s, prefix, err)
	}
	it := s.bucket.Objects(ctx, q)
	for {
		oa, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		if blob.ValidateKey(oa.Name) != nil {
			continue
		}
		if err := fn(toAttrs(oa)); err != nil {
			return err
		}
	}
}

// ListDirs lists the prefixes right under dir (a "/" delimiter listing):
// the objects below are never walked.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if err := blob.ValidateDir(dir); err != nil {
		return err
	}
	q := &storage.Query{Prefix: dir, Delimiter: "/"}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return fmt.Errorf("%s: list %q: %w", s, dir, err)
	}
	var names []string
	it := s.bucket.Objects(ctx, q)
	for {
		oa, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return s.wrap(ctx, "list", dir, err)
		}
		if oa.Prefix == "" {
			continue // an object right under dir
		}
		if name, ok := blob.DirOf(dir, oa.Prefix); ok {
			names = append(names, name)
		}
	}
	return blob.EmitDirs(names, fn)
}
