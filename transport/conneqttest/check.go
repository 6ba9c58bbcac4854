package conneqttest

import (
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// CheckMessage is the simulator's validation, used when Options.Validate is
// nil: gpdoc's own validate.CheckMessage with nothing deferred to later
// stages, so the simulator is exactly as strict as the validate stage (one
// set of rules, one place). now is the time expiryDateTime and dates of
// birth are judged against. Warnings (the spec's "should") are not errors
// and are not reported.
func CheckMessage(route *conneqt.Route, msg *conneqt.Message, now time.Time) []conneqt.Problem {
	problems, _ := validate.CheckMessage(route, msg, validate.Options{Now: func() time.Time { return now }})
	return problems
}
