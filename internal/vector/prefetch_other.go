//go:build !amd64

package vector

import "unsafe"

func prefetch(unsafe.Pointer, int) {}
