package mem_test

import (
	"testing"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
	"strata/internal/blob/mem"
)

func TestAcceptance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store { return mem.New() })
}
