package gcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"strata/internal/blob"
)

// wrap adds the store, operation and key to err, mapping GCS errors to the
// blob ones. Invalid keys and nil are returned as they are. If ctx is done,
// its error is made findable with errors.Is even when the library reported
// the cancellation in its own words.
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	if err == nil || errors.Is(err, blob.ErrInvalidKey) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", err, cerr)
	}
	return fmt.Errorf("%s: %s %q: %w", s, op, key, mapErr(err))
}

// mapErr maps a missing object or bucket to blob.ErrNotFound, HTTP 401 and
// 403 to blob.ErrPermission and 416 to blob.ErrInvalidRange, keeping the
// original error in the chain.
func mapErr(err error) error {
	switch {
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrPermission), errors.Is(err, blob.ErrInvalidRange):
		return err
	case errors.Is(err, storage.ErrObjectNotExist), errors.Is(err, storage.ErrBucketNotExist):
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	switch httpCode(err) {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", blob.ErrPermission, err)
	case http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %w", blob.ErrInvalidRange, err)
	}
	return err
}

// httpCode returns the HTTP status of a GCS API error, or 0.
func httpCode(err error) int {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code
	}
	return 0
}
