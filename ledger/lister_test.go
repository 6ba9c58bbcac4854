package ledger_test

import (
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/ledgertest"
)

func TestMemoryListAndStatus(t *testing.T) {
	ledgertest.RunListAndStatus(t, func(t *testing.T) ledgertest.Opener {
		m := ledger.NewMemory()
		first := true
		return func(t *testing.T) ledger.Ledger {
			if !first {
				m = m.NewRun()
			}
			first = false
			return m
		}
	})
}
