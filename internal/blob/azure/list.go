package azure

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"strata/internal/blob"
)

// List pages through the blobs whose names start with prefix. The service
// sorts them by UTF-16 code units; byteOrder restores byte order, holding
// back only names with characters beyond U+FFFF until it is safe to
// release them. fn is called between page requests, not during one, so it
// may use the store. Blob names that are not valid keys (put there by
// other tools, e.g. "a//b") are skipped.
//
// Accounts with a hierarchical namespace (ADLS Gen2) list in path order,
// which differs again ("a/x" before "a-b"); List does not correct that.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	emit := func(a blob.Attrs) error {
		if err := ctx.Err(); err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		return fn(a) // unchanged, as the contract demands
	}
	var order byteOrder
	if err := s.list(ctx, prefix, func(a blob.Attrs) error { return order.add(a, emit) }); err != nil {
		return err
	}
	return order.flush(emit)
}

// list calls add for every blob with a valid key under prefix, in the
// service's order, and returns add's first error unchanged.
func (s *Store) list(ctx context.Context, prefix string, add func(blob.Attrs) error) error {
	opts := &container.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := s.container.NewListBlobsFlatPager(opts)
	for pager.More() {
		if err := ctx.Err(); err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		if page.Segment == nil {
			continue
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil || blob.ValidateKey(*item.Name) != nil {
				continue
			}
			a := blob.Attrs{Key: *item.Name}
			if p := item.Properties; p != nil {
				if p.ContentLength != nil {
					a.Size = *p.ContentLength
				}
				if p.LastModified != nil {
					a.ModTime = *p.LastModified
				}
			}
			if err := add(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListDirs lists the blob prefixes right under dir (a "/" hierarchy
// listing): the blobs below are never walked.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if err := blob.ValidateDir(dir); err != nil {
		return err
	}
	opts := &container.ListBlobsHierarchyOptions{}
	if dir != "" {
		opts.Prefix = &dir
	}
	var names []string
	pager := s.container.NewListBlobsHierarchyPager("/", opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.wrap(ctx, "list", dir, err)
		}
		if page.Segment == nil {
			continue
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name == nil {
				continue
			}
			if name, ok := blob.DirOf(dir, *p.Name); ok {
				names = append(names, name)
			}
		}
	}
	return blob.EmitDirs(names, fn)
}
