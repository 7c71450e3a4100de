//go:build !linux

package backup

// lowerPriority is a no-op where per-thread priorities are not available.
func lowerPriority() {}
