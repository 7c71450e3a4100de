package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"strata/internal/blob"
)

// wrap adds the store, operation and key to err and maps service errors to
// the blob ones. If ctx is done, the result also wraps ctx's error, which
// the SDK does not always keep in the chain. Invalid keys are returned as
// they are.
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	if err == nil || errors.Is(err, blob.ErrInvalidKey) {
		return err
	}
	err = mapErr(err)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return fmt.Errorf("%s: %s %q: %w", s, op, key, err)
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
