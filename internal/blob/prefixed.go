package blob

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Prefixed returns a Store that keeps its objects in s under prefix: key k
// is stored as prefix+"/"+k, and List reports keys with the prefix removed.
// It serves per-request path overrides.
//
// The prefix must be a valid key (see ValidateKey), optionally with one
// trailing "/"; an empty prefix returns s itself ("/" is invalid). If the prefix is invalid,
// every method of the returned Store fails with an error wrapping
// ErrInvalidKey, so callers that take the prefix from a request should check
// it with ValidateKey first to report the problem early.
func Prefixed(s Store, prefix string) Store {
	if prefix == "" {
		return s
	}
	if len(prefix) > 1 {
		prefix = strings.TrimSuffix(prefix, "/")
	}
	p := &prefixed{inner: s, prefix: prefix}
	if err := ValidateKey(prefix); err != nil {
		p.err = fmt.Errorf("prefix: %w", err)
	}
	return p
}

type prefixed struct {
	inner  Store
	prefix string // valid key without trailing "/"
	err    error  // non-nil if prefix is invalid
}

var _ Store = (*prefixed)(nil)

// full validates key and returns it joined under the prefix.
func (p *prefixed) full(key string) (string, error) {
	if p.err != nil {
		return "", p.err
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return p.prefix + "/" + key, nil
}

func (p *prefixed) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	k, err := p.full(key)
	if err != nil {
		return err
	}
	return p.inner.Put(ctx, k, r, size)
}

func (p *prefixed) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := p.full(key)
	if err != nil {
		return nil, err
	}
	return p.inner.Get(ctx, k)
}

func (p *prefixed) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	k, err := p.full(key)
	if err != nil {
		return nil, err
	}
	return p.inner.GetRange(ctx, k, offset, length)
}

func (p *prefixed) Stat(ctx context.Context, key string) (Attrs, error) {
	k, err := p.full(key)
	if err != nil {
		return Attrs{}, err
	}
	a, err := p.inner.Stat(ctx, k)
	if err != nil {
		return Attrs{}, err
	}
	a.Key = key
	return a, nil
}

func (p *prefixed) List(ctx context.Context, prefix string, fn func(Attrs) error) error {
	if p.err != nil {
		return p.err
	}
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	under := p.prefix + "/"
	return p.inner.List(ctx, under+prefix, func(a Attrs) error {
		a.Key = strings.TrimPrefix(a.Key, under)
		return fn(a)
	})
}

func (p *prefixed) Delete(ctx context.Context, key string) error {
	k, err := p.full(key)
	if err != nil {
		return err
	}
	return p.inner.Delete(ctx, k)
}

func (p *prefixed) String() string {
	if p.err != nil {
		return fmt.Sprintf("%s under invalid prefix %q", p.inner, p.prefix)
	}
	return fmt.Sprintf("%s under %q", p.inner, p.prefix)
}

func (p *prefixed) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if p.err != nil {
		return p.err
	}
	if err := ValidateDir(dir); err != nil {
		return err
	}
	return p.inner.ListDirs(ctx, p.prefix+"/"+dir, fn)
}

// Close does nothing: the inner store is shared, its owner closes it.
func (p *prefixed) Close() error { return nil }
