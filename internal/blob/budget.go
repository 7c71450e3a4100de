package blob

import (
	"context"
	"errors"
)

// ErrStopped is what Budget.Acquire returns once its stop channel is
// closed: the caller stopped for a failure of its own, which it reports.
var ErrStopped = errors.New("blob: upload stopped")

// Budget bounds the upload buffers in use across the Puts that share it, so
// that the objects one job uploads at once and the parts each of them sends
// in parallel draw on one limit. A provider that sends an object in parts
// takes a slot for every part buffer it holds — the one being filled from
// the reader and those being sent — and gives it back once the part is
// sent. A Put whose context carries no Budget uses a private one sized by
// the provider's own concurrency setting.
//
// Slots are only ever waited for while the Put holds none besides those of
// parts being sent, which finish on their own, so Puts sharing a Budget
// cannot deadlock, whatever its size.
type Budget struct{ slots chan struct{} }

// NewBudget returns a Budget of n slots (at least 1).
func NewBudget(n int) *Budget {
	return &Budget{slots: make(chan struct{}, max(1, n))}
}

// Size is the number of slots.
func (b *Budget) Size() int { return cap(b.slots) }

// Acquire waits for a free slot. It fails with ctx's error once ctx is
// done, or with errStopped once stop is closed (stop may be nil).
func (b *Budget) Acquire(ctx context.Context, stop <-chan struct{}) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return ErrStopped
	}
}

// Release frees a slot taken by Acquire.
func (b *Budget) Release() { <-b.slots }

type budgetKey struct{}

// WithBudget returns a context whose Puts share b.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// BudgetFrom returns the Budget of ctx, or a new one of n slots if it has
// none.
func BudgetFrom(ctx context.Context, n int) *Budget {
	if b, ok := ctx.Value(budgetKey{}).(*Budget); ok {
		return b
	}
	return NewBudget(n)
}
