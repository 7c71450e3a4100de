package gcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// wrap gives err the shape of every provider's errors (blobio.Wrap).
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	return blobio.Wrap(ctx, s, op, key, err, mapErr)
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
