package manifest

import (
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Stage is the name changes made while reading a line are recorded under.
const ChangeStage = "manifest"

// fillIdentifiers completes the identifiers of a line, as "type" is filled
// in from the route, and records each as a change:
//
//   - recipient.id.type and subject.id.type left out (the standard page
//     marks both not required) are filled in with the route's only allowed
//     value; where the route allows several (GP Connect's subject:
//     VerifiedNhsNumber or NHSNumber) they stay empty, for the validate
//     stage to name what is valid;
//   - a recipient.id.value that is one of the route's literals in another
//     case ("unk" on GP Connect) is read as the literal ("UNK"), not as an
//     organisation code.
func fillIdentifiers(doc *pipeline.Document) {
	route, msg := doc.Route, doc.Message
	fill := func(name string, id *conneqt.Identifier, allowed []string) {
		if id.Type != "" || len(allowed) != 1 {
			return
		}
		id.Type = allowed[0]
		doc.AddChange(pipeline.Change{Name: name, Stage: ChangeStage, Action: "filled in", After: id.Type,
			Detail: fmt.Sprintf("left out; the only value the %s route allows", route.Name)})
	}
	fill("recipient.id.type", &msg.Recipient.ID, route.RecipientIDTypes)
	fill("subject.id.type", &msg.Subject.ID, route.SubjectIDTypes)
	v := msg.Recipient.ID.Value
	for _, lit := range route.RecipientLiterals {
		if v != lit && strings.EqualFold(strings.TrimSpace(v), lit) {
			msg.Recipient.ID.Value = lit
			doc.AddChange(pipeline.Change{Name: "recipient.id.value", Stage: ChangeStage, Action: "normalised", Before: v, After: lit,
				Detail: fmt.Sprintf("read as the %s route's '%s', not as an organisation code", route.Name, lit)})
			return
		}
	}
}
