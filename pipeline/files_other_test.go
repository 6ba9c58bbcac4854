//go:build !unix

package pipeline_test

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
