package downsample

import (
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/pipeline"
)

// Sentinel errors, for errors.Is. ErrCannotFit, ErrTooManyPixels,
// ErrOverBudget and ErrTimeout also match pipeline.ErrTooLarge;
// ErrUndecodable matches pipeline.ErrUnsupported.
var (
	// ErrCannotFit: the content cannot be brought under the budget within
	// the limits (long-edge floor, quality floor, PDF images only).
	ErrCannotFit = fmt.Errorf("cannot fit under the size limit: %w", pipeline.ErrTooLarge)
	// ErrTooManyPixels: the image header declares more pixels than allowed.
	ErrTooManyPixels = fmt.Errorf("image has too many pixels: %w", pipeline.ErrTooLarge)
	// ErrOverBudget: decoding the content needs more memory than the whole
	// decode budget, or a PDF's streams decode to more than
	// Options.MaxPDFDecodeBytes. The error also matches
	// budget.ErrOverBudget.
	ErrOverBudget = fmt.Errorf("over the decode budget: %w", pipeline.ErrTooLarge)
	// ErrTimeout: fitting a PDF took longer than Options.PDFTimeout.
	ErrTimeout = fmt.Errorf("took too long: %w", pipeline.ErrTooLarge)
	// ErrUndecodable: the content is damaged or of a kind gpdoc cannot read.
	ErrUndecodable = fmt.Errorf("cannot decode: %w", pipeline.ErrUnsupported)
)

// FitError explains why content could not be fitted: the budget, the best
// size reached, and a sentence for the user.
type FitError struct {
	Limit   int64 // the budget in bytes
	Reached int64 // the smallest size gpdoc produced, 0 if none
	Reason  string
	Err     error // a sentinel above
}

// Error returns the reason.
func (e *FitError) Error() string { return e.Reason }

// Unwrap returns the sentinel.
func (e *FitError) Unwrap() error { return e.Err }

func cannotFit(limit, reached int64, format string, args ...any) error {
	return &FitError{Limit: limit, Reached: reached, Reason: fmt.Sprintf(format, args...), Err: ErrCannotFit}
}

func undecodable(what string, err error) error {
	return &FitError{Reason: fmt.Sprintf("the %s could not be decoded (%v); the file is probably damaged", what, err),
		Err: errors.Join(ErrUndecodable, err)}
}
