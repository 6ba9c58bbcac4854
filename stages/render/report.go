package render

import (
	"strconv"
	"strings"
	"time"

	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/stages/render/layout"
)

// SummaryReason is the fixed "Summary Reason" text of the GP Connect
// Consultation Report layout (docs/spec.md#consultation-report-layout).
const SummaryReason = "A patient recently consulted with a clinician at an organisation different to the GP practice that they are registered with. The notes contained in this document are a summary of the consultation"

// Texts the report uses for confidential consultations
// (docs/spec.md#consultation-report-layout).
const (
	ConfidentialNotes = "The details of this consultation have been set as confidential"
	ConfidentialItem  = "Confidential item"
)

// Colours of the NHS identity: the report's bands use NHS Blue and NHS Light
// Blue (GPCM-SD-CS-014..016).
var (
	nhsBlue      = layout.Hex(0x005EB8)
	nhsLightBlue = layout.Hex(0x41B6E6)
	paleBlue     = layout.Hex(0xE8F1F8)
	textColour   = layout.Hex(0x212B32)
	greyColour   = layout.Hex(0x4C6272)
	ruleColour   = layout.Hex(0xAEB7BD)
	white        = layout.Color{R: 1, G: 1, B: 1}
)

// Page geometry, in points.
const (
	marginX      = 42
	marginTop    = 28
	marginBottom = 52
	bandHeight   = 32
	barHeight    = 18
	labelWidth   = 104
	// wideLabelWidth fits "Date consultation letter sent" on one line.
	wideLabelWidth = 150
)

type styles struct {
	body, label, bold, small, big, bar, band, bandSmall, cellHead layout.Style
}

func newStyles(reg, bold *layout.Font) styles {
	return styles{
		body:      layout.Style{Font: reg, Size: 9.5, Color: textColour},
		label:     layout.Style{Font: bold, Size: 9, Color: greyColour},
		bold:      layout.Style{Font: bold, Size: 9.5, Color: textColour},
		small:     layout.Style{Font: reg, Size: 8, Color: greyColour},
		big:       layout.Style{Font: bold, Size: 15, Color: textColour},
		bar:       layout.Style{Font: bold, Size: 10, Color: textColour},
		band:      layout.Style{Font: bold, Size: 15, Color: white},
		bandSmall: layout.Style{Font: reg, Size: 9, Color: white},
		cellHead:  layout.Style{Font: bold, Size: 9, Color: textColour},
	}
}

// report is one rendering: the consultation, its formatted dates and the
// document being laid out.
type report struct {
	c        *Consultation
	st       styles
	d        *layout.Document
	loc      *time.Location
	sent     time.Time
	patient  string // SURNAME, Given (Title)
	nhs      string // ### ### ####
	contentW float64
}

// layoutReport lays the report out; the caller makes the PDF.
func layoutReport(c *Consultation, reg, bold *layout.Font, loc *time.Location, sent time.Time, maxPages int) *report {
	r := &report{c: c, st: newStyles(reg, bold), loc: loc, sent: sent}
	r.patient = PatientName(c.Patient)
	nhs, _ := nhsnumber.Normalise(c.Patient.NHSNumber)
	r.nhs = FormatNHSNumber(nhs)
	d := layout.New(layout.Margins{Top: marginTop, Right: marginX, Bottom: marginBottom, Left: marginX})
	d.MaxPages = maxPages
	d.Header = r.header
	d.Footer = r.footer
	r.d = d
	r.contentW = d.ContentWidth()

	r.patientBlock()
	r.organisationBlock()
	r.datesBlock()
	r.clinicalNotes()
	return r
}

func (r *report) header(p *layout.Page, number int) float64 {
	x, y, w := float64(marginX), float64(marginTop), r.d.ContentWidth()
	p.FillRect(x, y, w, bandHeight, nhsBlue)
	p.Text(x+10, y+(bandHeight-r.st.band.LineHeight())/2, r.st.band, "CONSULTATION REPORT")
	p.TextRight(x+w-10, y+(bandHeight-r.st.bandSmall.LineHeight())/2, r.st.bandSmall, "- Confidential: personal data -")
	y += bandHeight + 4
	p.Text(x, y, r.st.small, "Version "+strconv.Itoa(r.c.Version))
	p.Text(x+70, y, r.st.small, r.relatedText())
	if number > 1 {
		// The patient on every later page (an addition to the
		// specification's header), between the related-documents count and
		// "Page x of y", shortened if it would run into either.
		room := w - 70 - r.st.small.Font.Width(r.relatedText(), r.st.small.Size) - pageNumberRoom - 20
		p.TextRight(x+w-pageNumberRoom, y, r.st.small, r.st.small.Font.Truncate(r.patient+"   NHS No "+r.nhs, r.st.small.Size, room))
	}
	y += r.st.small.LineHeight()
	p.Line(x, y+2, x+w, y+2, 0.75, nhsLightBlue)
	return bandHeight + 4 + r.st.small.LineHeight() + 12
}

// pageNumberRoom is the width kept free at the right of the header line
// for "Page x of y".
const pageNumberRoom = 70

func (r *report) relatedText() string {
	return "Number of related documents: " + strconv.Itoa(r.c.RelatedDocuments)
}

func pageOf(number, total int) string {
	return "Page " + strconv.Itoa(number) + " of " + strconv.Itoa(total)
}

// footer draws the footer and, since only now is the page count known, the
// header's "Page x of y".
func (r *report) footer(p *layout.Page, number, total int) {
	x, w := float64(marginX), r.d.ContentWidth()
	p.TextRight(x+w, marginTop+bandHeight+4, r.st.small, pageOf(number, total))
	y := r.d.Height - marginBottom + 14
	p.Line(x, y, x+w, y, 0.75, nhsLightBlue)
	p.Text(x, y+4, r.st.small, "Confidential: personal data")
	p.TextRight(x+w, y+4, r.st.small, pageOf(number, total))
}

// bar starts a block: a light blue band with a heading, kept with at least
// keep points of what follows.
func (r *report) bar(title string, keep float64) {
	d := r.d
	d.Ensure(barHeight + keep)
	if !d.AtTop() {
		d.Advance(10)
	}
	p := d.Page()
	y := d.Y()
	p.FillRect(d.Left(), y, r.contentW, barHeight, nhsLightBlue)
	p.Text(d.Left()+6, y+(barHeight-r.st.bar.LineHeight())/2, r.st.bar, title)
	d.Advance(barHeight + 4)
}

// pairs draws label/value pairs, two to a row; a pair with an empty label
// and value leaves its half empty. A single pair spans the whole row.
func (r *report) pairs(kv ...string) {
	half := r.contentW / 2
	for i := 0; i < len(kv); i += 4 {
		if i+2 >= len(kv) {
			r.d.Row([]layout.Cell{
				{Text: kv[i], Style: r.st.label, Width: labelWidth},
				{Text: kv[i+1], Style: r.st.body, Width: r.contentW - labelWidth},
			}, layout.RowOptions{Padding: 2})
			continue
		}
		r.d.Row([]layout.Cell{
			{Text: kv[i], Style: r.st.label, Width: labelWidth},
			{Text: kv[i+1], Style: r.st.body, Width: half - labelWidth},
			{Text: kv[i+2], Style: r.st.label, Width: labelWidth},
			{Text: kv[i+3], Style: r.st.body, Width: half - labelWidth},
		}, layout.RowOptions{Padding: 2})
	}
}

func (r *report) patientBlock() {
	d, p := r.d, r.c.Patient
	d.Row([]layout.Cell{{Text: "Patient Name", Style: r.st.label, Width: r.contentW}}, layout.RowOptions{Padding: 2})
	d.Row([]layout.Cell{{Text: r.patient, Style: r.st.big, Width: r.contentW}}, layout.RowOptions{Padding: 2})
	d.Advance(4)
	dob, _ := time.Parse(time.DateOnly, p.DateOfBirth)
	r.pairs("DOB", FormatDate(dob), "NHS No", r.nhs)
	r.pairs("Gender", p.Gender, "", "")
	r.pairs("Home/Registered Address", p.HomeAddress, "Tel No", p.Telephone)
	if p.Mobile != "" {
		r.pairs("", "", "Mobile No", p.Mobile)
	}
	// The current-location labels are shown only for a temporary location.
	if p.CurrentAddress != "" || p.CurrentTelephone != "" {
		r.pairs("Current Address", p.CurrentAddress, "Current Tel No", p.CurrentTelephone)
	}
}

func (r *report) organisationBlock() {
	c := r.c
	r.bar("CONSULTING ORGANISATION", 2*r.st.body.LineHeight())
	clinician, tel, email := c.Clinician.Name, c.Clinician.Telephone, c.Clinician.Email
	if c.Clinician.Role != "" {
		clinician += ", " + c.Clinician.Role
	}
	if tel == "" {
		tel = c.Organisation.Telephone
	}
	if email == "" {
		email = c.Organisation.Email
	}
	branch := c.Organisation.Branch
	org := c.Organisation.Name
	if c.Organisation.Address != "" {
		org += ", " + c.Organisation.Address
	}
	if c.Confidential {
		clinician, tel, email, branch, org = ConfidentialItem, ConfidentialItem, ConfidentialItem, ConfidentialItem, ConfidentialItem
	}
	r.pairs("Clinician", clinician, "Tel No", tel)
	r.pairs("Email", email, "Branch Location", branch)
	r.pairs("Organisation", org)
}

// datesBlock follows the consulting organisation, without a heading of its
// own (the specification has none), set off by a rule.
func (r *report) datesBlock() {
	c, d := r.c, r.d
	d.Ensure(3 * r.st.body.LineHeight())
	d.Advance(4)
	d.Page().Line(d.Left(), d.Y(), d.Left()+r.contentW, d.Y(), 0.5, ruleColour)
	d.Advance(4)
	at, _ := time.Parse(time.RFC3339, c.ConsultationDateTime)
	practice := c.ReceivingPractice.Name
	if c.ReceivingPractice.ODSCode != "" {
		practice += " (" + c.ReceivingPractice.ODSCode + ")"
	}
	for _, kv := range [][2]string{
		{"Consultation Date", FormatDateTime(at.In(r.loc))},
		{"Date consultation letter sent", FormatDateTime(r.sent.In(r.loc))},
		{"Receiving GP Practice", practice},
	} {
		d.Row([]layout.Cell{
			{Text: kv[0], Style: r.st.label, Width: wideLabelWidth},
			{Text: kv[1], Style: r.st.body, Width: r.contentW - wideLabelWidth},
		}, layout.RowOptions{Padding: 2})
	}
}

// noteRow is a clinical-note row in the specification's "[title]: [notes]"
// form: the title in bold with its colon, the notes tab-aligned beside it.
func (r *report) noteRow(title, text string) {
	r.d.Row([]layout.Cell{
		{Text: title + ":", Style: r.st.bold, Width: labelWidth + 8, Continued: title + " (continued):"},
		{Text: text, Style: r.st.body, Width: r.contentW - labelWidth - 8},
	}, layout.RowOptions{Padding: 3})
}

func (r *report) clinicalNotes() {
	c, d := r.c, r.d
	r.bar("CLINICAL NOTES", 3*r.st.body.LineHeight())
	r.noteRow("Summary Reason", SummaryReason)
	if c.Confidential {
		r.noteRow("Clinical Notes", ConfidentialNotes)
		return
	}
	for _, s := range c.Sections {
		r.noteRow(s.Title, s.Notes)
	}
	if len(c.CodedItems) > 0 {
		r.codedItems()
	}
	d.Ensure(r.st.bold.LineHeight() + 3*r.st.body.LineHeight())
	d.Advance(8)
	d.Row([]layout.Cell{{Text: "Follow-up Actions", Style: r.st.bold, Width: r.contentW}}, layout.RowOptions{Padding: 3})
	if len(c.FollowUpActions) == 0 {
		d.Row([]layout.Cell{{Text: "None recorded", Style: r.st.body, Width: r.contentW - 14}}, layout.RowOptions{X: d.Left() + 14, Padding: 2})
	}
	for _, a := range c.FollowUpActions {
		d.Row([]layout.Cell{
			{Text: "•", Style: r.st.body, Width: 14},
			{Text: a, Style: r.st.body, Width: r.contentW - 14},
		}, layout.RowOptions{Padding: 2})
	}
}

func (r *report) codedItems() {
	d := r.d
	widths := []float64{100, r.contentW - 100 - 80 - 70, 80, 70}
	head := func() {
		cells := make([]layout.Cell, 4)
		for i, h := range []string{"Code", "Description", "Value", "Units"} {
			cells[i] = layout.Cell{Text: h, Style: r.st.cellHead, Width: widths[i], Fill: &paleBlue, Right: i == 2}
		}
		d.Row(cells, layout.RowOptions{Padding: 3, Rule: &ruleColour})
	}
	d.Ensure(r.st.bold.LineHeight() + 3*r.st.body.LineHeight() + 24)
	d.Advance(8)
	d.Row([]layout.Cell{{Text: "Coded Items", Style: r.st.bold, Width: r.contentW}}, layout.RowOptions{Padding: 3})
	head()
	for _, it := range r.c.CodedItems {
		value := ""
		if it.Value != nil {
			value = it.Value.Text
		}
		d.Row([]layout.Cell{
			{Text: it.Code, Style: r.st.body, Width: widths[0]},
			{Text: it.Display, Style: r.st.body, Width: widths[1]},
			{Text: value, Style: r.st.body, Width: widths[2], Right: true},
			{Text: it.Units, Style: r.st.body, Width: widths[3]},
		}, layout.RowOptions{Padding: 3, Rule: &ruleColour, OnNewPage: head})
	}
}

// PatientName formats a patient as the report shows them:
// "SURNAME, Forename(s) (Title)".
func PatientName(p Patient) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(strings.TrimSpace(p.Family)))
	if g := strings.TrimSpace(p.Given); g != "" {
		b.WriteString(", " + g)
	}
	if t := strings.TrimSpace(p.Title); t != "" {
		b.WriteString(" (" + t + ")")
	}
	return b.String()
}

// FormatNHSNumber prints a 10-digit NHS number as "### ### ####"; anything
// else is returned unchanged.
func FormatNHSNumber(n string) string {
	if len(n) != 10 {
		return n
	}
	return n[:3] + " " + n[3:6] + " " + n[6:]
}

// FormatDate prints a date as DD-Mmm-YYYY, e.g. 20-Nov-1975.
func FormatDate(t time.Time) string { return t.Format("02-Jan-2006") }

// FormatDateTime prints a time as DD-Mmm-YYYY hh:mm (24-hour clock).
func FormatDateTime(t time.Time) string { return t.Format("02-Jan-2006 15:04") }
