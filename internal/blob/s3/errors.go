package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// wrap gives err the shape of every provider's errors (blobio.Wrap).
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	return blobio.Wrap(ctx, s, op, key, err, mapErr)
}

// mapErr puts blob.ErrNotFound or blob.ErrPermission in front of S3 errors
// that mean "no such object" or "access denied", keeping the original in
// the chain.
func mapErr(err error) error {
	switch {
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrPermission):
		return err
	case isPermission(err):
		return fmt.Errorf("%w: %w", blob.ErrPermission, err)
	case isNotFound(err):
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	return err
}

// isNotFound reports whether err says that the object does not exist. A
// missing bucket is a configuration problem, not a missing object, but a
// HEAD request cannot tell the two apart (404 without a body).
func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "":
		return httpStatus(err) == http.StatusNotFound
	}
	return false // e.g. NoSuchBucket, NoSuchUpload
}

// isPermission reports whether err is S3 refusing the request: access
// denied, or credentials it does not accept.
func isPermission(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"InvalidToken", "ExpiredToken", "TokenRefreshRequired", "AllAccessDisabled",
		"XAdminUserNotFound": // versitygw's InvalidAccessKeyId, sent with status 404
		return true
	}
	return httpStatus(err) == http.StatusForbidden
}

// isInvalidRange reports whether err is S3's answer to a Range starting at
// or beyond the end of the object.
func isInvalidRange(err error) bool {
	return errorCode(err) == "InvalidRange" || httpStatus(err) == http.StatusRequestedRangeNotSatisfiable
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}
