package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// wrap gives err the shape of every provider's errors (blobio.Wrap).
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	return blobio.Wrap(ctx, s, op, key, err, mapErr)
}

// mapErr maps an error of the service: 404 (BlobNotFound, ContainerNotFound)
// to blob.ErrNotFound, 401 and 403 (AuthenticationFailed,
// AuthorizationFailure, ...) to blob.ErrPermission, and 416 to
// blob.ErrInvalidRange. A service error is shortened to its status and
// error code, the SDK's error (with the request and the full response)
// staying in the chain for errors.As. Other errors are returned unchanged.
func mapErr(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	se := &serviceError{resp: re}
	switch re.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", blob.ErrNotFound, se)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", blob.ErrPermission, se)
	case http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %w", blob.ErrInvalidRange, se)
	}
	return se
}

// serviceError is an *azcore.ResponseError with a one-line message.
type serviceError struct{ resp *azcore.ResponseError }

func (e *serviceError) Error() string {
	code := e.resp.ErrorCode
	if code == "" {
		code = http.StatusText(e.resp.StatusCode)
	}
	return fmt.Sprintf("azure: HTTP %d %s", e.resp.StatusCode, code)
}

func (e *serviceError) Unwrap() error { return e.resp }

// hasCode reports whether err is a service error with the given error code.
func hasCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}
