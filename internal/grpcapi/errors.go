package grpcapi

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"strata/internal/apperr"
)

var (
	invalidf  = apperr.Invalidf
	notFoundf = apperr.NotFoundf
)

// unsupportedf reports a valid request for something Strata does not do.
func unsupportedf(format string, args ...any) error {
	return status.Error(codes.Unimplemented, fmt.Sprintf(format, args...))
}

// statusOf maps an error to a gRPC status: the one place that does so.
// Errors that already are statuses pass through; server faults are logged.
func (s *Server) statusOf(method string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		return status.Error(codes.InvalidArgument, err.Error())
	case apperr.NotFound:
		return status.Error(codes.NotFound, err.Error())
	case apperr.Forbidden:
		return status.Error(codes.PermissionDenied, err.Error())
	}
	s.log.Error("gRPC request failed", "method", method, "err", err)
	return status.Error(codes.Internal, err.Error())
}
