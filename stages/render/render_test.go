package render

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

func TestRenderFindsEveryField(t *testing.T) {
	c := example(t)
	c.Patient.Mobile = "07700 900123"
	c.Patient.CurrentAddress = "Room 4, Seaview Hotel, Weston-super-Mare BS23 1AA"
	c.Patient.CurrentTelephone = "01934 000000"
	c.Sections = append(c.Sections, Section{Title: "Social", Notes: "Zoë Ó'Brien – Ærøskøbing; dose 5 µg; 38.2 °C"})
	rep := render(t, newStage(t, Options{}), c)
	validateStrict(t, rep.PDF)
	if rep.Pages != 1 {
		t.Errorf("pages = %d, want 1", rep.Pages)
	}
	if len(rep.Missing) != 0 {
		t.Errorf("missing characters %q", rep.Missing)
	}
	text := pdftotext(t, rep.PDF, 0, 0)
	flat := squash(text)
	for _, want := range []string{
		"CONSULTATION REPORT", "- Confidential: personal data -", "Version 1", "Number of related documents: 0",
		"Patient Name", "Ó'BRIEN, Zoë (Ms)", "DOB", "20-Nov-1975", "NHS No", "969 093 7286",
		"Gender", "Female", "Home/Registered Address", "4 Harbour Row, Ærøskøbing Lane, Bristol BS1 4QA",
		"Tel No", "0117 496 0000", "Mobile No", "07700 900123",
		"Current Address", "Room 4, Seaview Hotel, Weston-super-Mare BS23 1AA", "Current Tel No", "01934 000000",
		"CONSULTING ORGANISATION", "Clinician", "Dr Aled Evans, General Practitioner", "01249 751000",
		"a.evans@example.org", "Branch Location", "Remote", "Organisation",
		"Harbourside Online Clinic, 1 Quay Street, Bristol BS1 4DJ",
		"Consultation Date", "20-Nov-2026 14:30", "Date consultation letter sent", "Receiving GP Practice",
		"Clifton Village Practice (B86057)",
		"CLINICAL NOTES", "Summary Reason: " + SummaryReason,
		"Cough for 5 days, no fever. Temperature at home 37.8 °C.", "Chest clear. SpO2 98% on air.",
		"salbutamol 100 µg inhaler", "Zoë Ó'Brien – Ærøskøbing; dose 5 µg; 38.2 °C",
		"Coded Items", "Code", "Description", "Value", "Units",
		"407554009", "Sitting systolic blood pressure", "128", "407555005", "Sitting diastolic blood pressure", "82", "mmHg",
		"Follow-up Actions", "Review in 7 days if not improving", "Safety-netting advice given",
		"Confidential: personal data", "Page 1 of 1",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("report text lacks %q", want)
		}
	}
	// The sections come in their order, after the summary reason.
	last := strings.Index(flat, "Summary Reason")
	for _, s := range c.Sections {
		i := strings.Index(flat, s.Title+": "+squash(s.Notes))
		if i < last {
			t.Errorf("section %q out of order (at %d, previous at %d)", s.Title, i, last)
		}
		last = i
	}
	// The layout's own labels (docs/spec.md#consultation-report-layout), and none of the old ones.
	for _, old := range []string{"Home Address", "Date Letter Sent", "CONSULTATION "} {
		if strings.Contains(strings.ReplaceAll(flat, "CONSULTATION REPORT", ""), old) {
			t.Errorf("report text has %q, which the Consultation Report layout does not", old)
		}
	}
	if n := strings.Count(flat, "Page 1 of 1"); n != 2 {
		t.Errorf("%q appears %d times, want 2 (header and footer)", "Page 1 of 1", n)
	}
	// Without a reference time or sentDateTime, the letter is "sent" at the
	// consultation time.
	if !strings.Contains(flat, "Date consultation letter sent 20-Nov-2026 14:30") {
		t.Errorf("deterministic sent date not the consultation's:\n%s", flat)
	}
}

func TestRenderDatesInLondonTime(t *testing.T) {
	c := example(t)
	c.ConsultationDateTime = "2026-07-01T08:05:00Z" // BST: 09:05
	c.SentDateTime = "2026-07-01T09:30:00+01:00"
	text := squash(pdftotext(t, render(t, newStage(t, Options{}), c).PDF, 0, 0))
	for _, want := range []string{"Consultation Date 01-Jul-2026 09:05", "Date consultation letter sent 01-Jul-2026 09:30"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

// threePageConsultation grows the notes until the report is three pages.
func threePageConsultation(t *testing.T, s *Stage) (*Consultation, *Report) {
	t.Helper()
	c := example(t)
	for n := 24; n < 200; n += 2 {
		c.Sections = []Section{{Title: "History", Notes: longNotes(n)}, {Title: "Plan", Notes: "Rest."}}
		rep := render(t, s, c)
		if rep.Pages == 3 {
			return c, rep
		}
		if rep.Pages > 3 {
			break
		}
	}
	t.Fatal("could not make a three-page report")
	return nil, nil
}

func TestRenderThreePages(t *testing.T) {
	s := newStage(t, Options{})
	_, rep := threePageConsultation(t, s)
	validateStrict(t, rep.PDF)
	for p := 1; p <= 3; p++ {
		text := squash(pdftotext(t, rep.PDF, p, p, "-layout"))
		for _, want := range []string{"CONSULTATION REPORT", "- Confidential: personal data -", "Version 1",
			"Confidential: personal data", fmt.Sprintf("Page %d of 3", p)} {
			if !strings.Contains(text, want) {
				t.Errorf("page %d lacks %q", p, want)
			}
		}
		if n := strings.Count(text, fmt.Sprintf("Page %d of 3", p)); n != 2 {
			t.Errorf("page %d: %q %d times, want 2 (header and footer)", p, fmt.Sprintf("Page %d of 3", p), n)
		}
		if p > 1 && !strings.Contains(text, "Ó'BRIEN, Zoë (Ms) NHS No 969 093 7286") {
			t.Errorf("page %d lacks the patient in its header", p)
		}
	}
}

// runningText matches the header and footer lines of a report on the example patient.
var runningText = regexp.MustCompile(`CONSULTATION REPORT|- Confidential: personal data -|Confidential: personal data|Version 1|Number of related documents: 0|Ó'BRIEN, Zoë \(Ms\)|NHS No 969 093 7286|History \(continued\):|Page \d+ of \d+`)

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }

// TestRenderLongNotesLoseNothing checks that every word of notes running
// over many pages comes out, in order, and that no word overlaps another or
// leaves the body of its page.
func TestRenderLongNotesLoseNothing(t *testing.T) {
	s := newStage(t, Options{})
	c := example(t)
	notes := longNotes(120)
	c.Sections = []Section{{Title: "History", Notes: notes}}
	rep := render(t, s, c)
	validateStrict(t, rep.PDF)
	if rep.Pages < 5 {
		t.Fatalf("pages = %d, want 5 or more", rep.Pages)
	}
	// Every character of the notes comes out, in order, once the running
	// header and footer and the white space are taken out.
	body := pdftotext(t, rep.PDF, 0, 0, "-layout")
	if strings.Count(body, "History (continued):") != rep.Pages-1 {
		t.Errorf("%q not on every continuation page", "History (continued)")
	}
	body = runningText.ReplaceAllString(body, "")
	if !strings.Contains(noSpace(body), "History:"+noSpace(notes)) {
		t.Error("the extracted text does not hold the notes, complete and in order")
	}
	checkBoxes(t, pdftotext(t, rep.PDF, 0, 0, "-bbox"))
}

var (
	pageRe = regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`)
	wordRe = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
)

type box struct {
	x0, y0, x1, y1 float64
	w              string
}

// checkBoxes reads pdftotext -bbox output: every word must lie inside the
// page margins and not overlap another word.
func checkBoxes(t *testing.T, html string) {
	t.Helper()
	pages := strings.Split(html, "<page ")[1:]
	if len(pages) == 0 {
		t.Fatal("no pages in pdftotext -bbox output")
	}
	for pi, pg := range pages {
		m := pageRe.FindStringSubmatch("<page " + pg)
		pw, _ := strconv.ParseFloat(m[1], 64)
		ph, _ := strconv.ParseFloat(m[2], 64)
		var boxes []box
		for _, w := range wordRe.FindAllStringSubmatch(pg, -1) {
			var b box
			b.x0, _ = strconv.ParseFloat(w[1], 64)
			b.y0, _ = strconv.ParseFloat(w[2], 64)
			b.x1, _ = strconv.ParseFloat(w[3], 64)
			b.y1, _ = strconv.ParseFloat(w[4], 64)
			b.w = w[5]
			if b.x0 < marginX-1 || b.x1 > pw-marginX+1 || b.y0 < marginTop || b.y1 > ph-marginBottom+30 {
				t.Errorf("page %d: word %q at %v lies outside the margins", pi+1, b.w, b)
			}
			boxes = append(boxes, b)
		}
		for i, a := range boxes {
			for _, b := range boxes[i+1:] {
				// Allow a hair of overlap for glyph bounds.
				if a.x0 < b.x1-0.5 && b.x0 < a.x1-0.5 && a.y0 < b.y1-1 && b.y0 < a.y1-1 {
					t.Errorf("page %d: words %q and %q overlap", pi+1, a.w, b.w)
				}
			}
		}
	}
}

func TestRenderShortReportLayout(t *testing.T) {
	rep := render(t, newStage(t, Options{}), example(t))
	checkBoxes(t, pdftotext(t, rep.PDF, 0, 0, "-bbox"))
}

func TestRenderLongNamesStayInPlace(t *testing.T) {
	c := example(t)
	c.Patient.Family = strings.Repeat("Montgomery-Featherstonehaugh ", 4)
	c.Patient.Given = "Anna Maria Josephine Alexandra"
	c.Organisation.Name = strings.Repeat("Harbourside Online Clinic ", 8)
	c.Sections = []Section{{Title: "A very long section title that needs to wrap over lines", Notes: longNotes(30)}}
	c.CodedItems[0].Display = strings.Repeat("Sitting systolic blood pressure ", 6)
	rep := render(t, newStage(t, Options{}), c)
	if rep.Pages < 2 {
		t.Fatalf("pages = %d, want 2 or more", rep.Pages)
	}
	validateStrict(t, rep.PDF)
	checkBoxes(t, pdftotext(t, rep.PDF, 0, 0, "-bbox"))
	if !strings.Contains(pdftotext(t, rep.PDF, 2, 2), "…") {
		t.Error("the patient in the page 2 header is not shortened")
	}
}

func TestRenderConfidential(t *testing.T) {
	c := example(t)
	c.Confidential = true
	rep := render(t, newStage(t, Options{}), c)
	validateStrict(t, rep.PDF)
	flat := squash(pdftotext(t, rep.PDF, 0, 0))
	for _, want := range []string{ConfidentialNotes, ConfidentialItem, "Ó'BRIEN, Zoë (Ms)", "969 093 7286",
		"Clifton Village Practice (B86057)", "Summary Reason", "Page 1 of 1"} {
		if !strings.Contains(flat, want) {
			t.Errorf("confidential report lacks %q", want)
		}
	}
	for _, hidden := range []string{"Dr Aled Evans", "General Practitioner", "01249 751000", "a.evans@example.org",
		"reception@example.org", "Harbourside", "Quay Street", "Remote", "Cough", "Chest clear", "Paracetamol",
		"History", "407554009", "Sitting systolic", "Review in 7 days", "Safety-netting"} {
		if strings.Contains(flat, hidden) {
			t.Errorf("confidential report shows %q", hidden)
		}
	}
	if n := strings.Count(flat, ConfidentialItem); n != 5 {
		t.Errorf("%q appears %d times, want 5 (clinician, tel, email, branch, organisation)", ConfidentialItem, n)
	}
}

func TestRenderDeterministic(t *testing.T) {
	c := example(t)
	// Different clocks: the clock must not reach the bytes (pdfcpu itself
	// stamps the wall clock, to the second).
	a := render(t, newStage(t, Options{Now: time.Now}), c)
	later := func() time.Time { return time.Now().Add(50 * time.Hour) }
	b := render(t, newStage(t, Options{Now: later}), c)
	if !bytes.Equal(a.PDF, b.PDF) {
		t.Error("two renders of one consultation differ")
	}
	if !bytes.Contains(a.PDF, []byte("/CreationDate(D:20261120143000+00'00')")) {
		t.Error("without a reference time, the creation date is not the consultation's")
	}
	c.Sections[0].Notes += "!"
	d := render(t, newStage(t, Options{}), c)
	if bytes.Equal(a.PDF[len(a.PDF)-400:], d.PDF[len(d.PDF)-400:]) {
		t.Error("document id does not depend on the content")
	}
}

func TestReportDates(t *testing.T) {
	ref := time.Date(2026, 11, 20, 17, 45, 0, 0, time.UTC)
	consulted := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	given := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name                 string
		sentDateTime         string
		ref                  time.Time
		wantSent, wantCreate time.Time
	}{
		{"nothing: the consultation's date", "", time.Time{}, consulted, consulted},
		{"reference time", "", ref, ref, ref},
		{"sentDateTime", "2026-11-20T16:00:00Z", time.Time{}, given, given},
		{"sentDateTime and reference time", "2026-11-20T16:00:00Z", ref, given, ref},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := example(t)
			c.SentDateTime = tt.sentDateTime
			gotC, gotS, gotCr := reportDates(c, tt.ref)
			if !gotC.Equal(consulted) || !gotS.Equal(tt.wantSent) || !gotCr.Equal(tt.wantCreate) {
				t.Errorf("reportDates = %v, %v, %v; want %v, %v, %v", gotC, gotS, gotCr, consulted, tt.wantSent, tt.wantCreate)
			}
		})
	}
}

// TestRenderReferenceTime: the reference time is the sending date shown and
// the PDF's dates, and the same reference time gives the same bytes.
func TestRenderReferenceTime(t *testing.T) {
	s := newStage(t, Options{})
	c := example(t)
	ref := time.Date(2026, 11, 20, 17, 45, 0, 0, time.UTC)
	a, err := s.Render(t.Context(), c, ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Render(t.Context(), c, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PDF, b.PDF) {
		t.Error("two renders with one reference time differ")
	}
	for _, want := range []string{"/CreationDate(D:20261120174500+00'00')", "/ModDate(D:20261120174500+00'00')"} {
		if !bytes.Contains(a.PDF, []byte(want)) {
			t.Errorf("PDF lacks %s", want)
		}
	}
	if text := squash(pdftotext(t, a.PDF, 0, 0)); !strings.Contains(text, "20-Nov-2026 17:45") {
		t.Errorf("the reference time is not the sending date shown:\n%s", text)
	}
	other := render(t, s, c)
	if bytes.Equal(a.PDF, other.PDF) {
		t.Error("the reference time does not reach the report")
	}
}

// TestStageUsesReferenceTime: the stage renders with the document's
// ReferenceTime, and the same document gives the same attachment bytes.
func TestStageUsesReferenceTime(t *testing.T) {
	s := newStage(t, Options{Now: time.Now})
	ref := time.Date(2026, 11, 20, 17, 45, 0, 0, time.UTC)
	var got [][]byte
	for range 2 {
		doc := &pipeline.Document{Message: &conneqt.Message{}, Consultation: exampleRaw(t), ReferenceTime: ref}
		if err := s.ProcessMessage(t.Context(), doc); err != nil {
			t.Fatal(err)
		}
		got = append(got, doc.Message.Attachments[0].Data)
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Error("one document rendered twice gives different bytes")
	}
	if !bytes.Contains(got[0], []byte("/CreationDate(D:20261120174500+00'00')")) {
		t.Error("the stage did not use Document.ReferenceTime")
	}
}

// TestRenderSameBytesAcrossProcesses renders the example in two fresh
// processes (this test binary run again) and compares the bytes: map
// iteration order and any per-process state must not reach the output.
func TestRenderSameBytesAcrossProcesses(t *testing.T) {
	if out := os.Getenv("GPDOC_RENDER_CHILD_OUT"); out != "" {
		rep := render(t, newStage(t, Options{}), example(t))
		if err := os.WriteFile(out, rep.PDF, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	if testing.Short() {
		t.Skip("starts two processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	var outs [][]byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), fmt.Sprintf("child%d.pdf", i))
		cmd := exec.Command(exe, "-test.run=^TestRenderSameBytesAcrossProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GPDOC_RENDER_CHILD_OUT="+out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two processes rendered different bytes")
	}
	if here := render(t, newStage(t, Options{}), example(t)).PDF; !bytes.Equal(here, outs[0]) {
		t.Error("a child process rendered different bytes from this one")
	}
}

func TestRenderFileName(t *testing.T) {
	c := example(t)
	if got := render(t, newStage(t, Options{}), c).FileName; got != "Consultation Report - 20-Nov-2026.pdf" {
		t.Errorf("default file name %q", got)
	}
	c.FileName = "Summary Ó'Brien.pdf"
	if got := render(t, newStage(t, Options{}), c).FileName; got != c.FileName {
		t.Errorf("file name %q, want %q", got, c.FileName)
	}
}

func TestRenderMissingCharacters(t *testing.T) {
	c := example(t)
	c.Sections[0].Notes = "Patient sent 😀 and 漢字"
	rep := render(t, newStage(t, Options{}), c)
	if len(rep.Missing) != 3 {
		t.Errorf("missing = %q, want the emoji and two ideographs", rep.Missing)
	}
	if !strings.Contains(pdftotext(t, rep.PDF, 0, 0), "Patient sent ? and ??") {
		t.Error("missing characters not printed as '?'")
	}
}

func TestRenderTooManyPages(t *testing.T) {
	c := example(t)
	c.Sections = []Section{{Title: "History", Notes: longNotes(100)}}
	_, err := newStage(t, Options{MaxPages: 2}).Render(t.Context(), c, time.Time{})
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Name != "consultation" {
		t.Fatalf("err = %v, want a validation problem on consultation", err)
	}
}

func TestRenderCancelled(t *testing.T) {
	ctx, cancel := contextWithCancel(t)
	cancel()
	if _, err := newStage(t, Options{}).Render(ctx, example(t), time.Time{}); !errors.Is(err, errCancelled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestRenderConcurrent renders from many goroutines at once: run with -race
// to check pdfcpu's global state and the shared fonts.
func TestRenderConcurrent(t *testing.T) {
	s := newStage(t, Options{})
	c := example(t)
	want := render(t, s, c).PDF
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			c := example(t)
			if i%2 == 1 {
				c.Sections = []Section{{Title: "History", Notes: longNotes(20)}}
			}
			rep, err := s.Render(t.Context(), c, time.Time{})
			switch {
			case err != nil:
				errs <- err
			case i%2 == 0 && !bytes.Equal(rep.PDF, want):
				errs <- fmt.Errorf("goroutine %d: output differs from the serial render", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReportSize: the fonts are subset to the glyphs a report uses, so a
// one-page report is at most 40 KB and a ten-page one at most 80 KB (issue
// 15; whole fonts made them about 155 KB).
func TestReportSize(t *testing.T) {
	s := newStage(t, Options{})
	one := render(t, s, example(t))
	if one.Pages != 1 || len(one.PDF) > 40_000 {
		t.Errorf("one-page report: %d page(s), %d bytes; want 1 page, at most 40000 bytes", one.Pages, len(one.PDF))
	}
	c := example(t)
	var ten *Report
	for n := 60; n < 400 && (ten == nil || ten.Pages < 10); n += 10 {
		c.Sections = []Section{{Title: "History", Notes: longNotes(n)}}
		ten = render(t, s, c)
	}
	if ten.Pages < 10 || len(ten.PDF) > 80_000 {
		t.Errorf("long report: %d pages, %d bytes; want 10 or more pages, at most 80000 bytes", ten.Pages, len(ten.PDF))
	}
	t.Logf("one page %d bytes, %d pages %d bytes", len(one.PDF), ten.Pages, len(ten.PDF))
	// The text is still there to extract.
	if text := squash(pdftotext(t, one.PDF, 0, 0)); !strings.Contains(text, "Ó'BRIEN, Zoë (Ms)") || !strings.Contains(text, "salbutamol 100 µg inhaler") {
		t.Errorf("text not extractable from the subset fonts:\n%s", text)
	}
}
