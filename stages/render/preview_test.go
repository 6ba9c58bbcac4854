package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPreview renders a short, a long (5+ pages) and a confidential report
// and their pages as PNG images, for a person to look at. It runs only when
// GPDOC_PREVIEW_DIR names the output directory (see
// testdata/render/make-previews.sh) and needs pdftoppm (poppler-utils).
func TestPreview(t *testing.T) {
	dir := os.Getenv("GPDOC_PREVIEW_DIR")
	if dir == "" {
		t.Skip("set GPDOC_PREVIEW_DIR to write previews")
	}
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := newStage(t, Options{})
	short := example(t)
	long := example(t)
	long.Patient.CurrentAddress = "Room 4, Seaview Hotel, Weston-super-Mare BS23 1AA"
	long.Patient.CurrentTelephone = "01934 000000"
	long.Sections = append(long.Sections, Section{Title: "Further history", Notes: longNotes(130)},
		Section{Title: "Social", Notes: "Zoë Ó'Brien – Ærøskøbing. Lives alone; independent."})
	for i := range 40 {
		long.CodedItems = append(long.CodedItems, CodedItem{Code: "407554009", Display: "Sitting systolic blood pressure, reading " + string(rune('A'+i%26)), Units: "mmHg"})
	}
	confidential := example(t)
	confidential.Confidential = true
	for name, c := range map[string]*Consultation{"short": short, "long": long, "confidential": confidential} {
		rep := render(t, s, c)
		pdf := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(pdf, rep.PDF, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(pdftoppm, "-r", "60", "-png", pdf, filepath.Join(dir, name+"-page")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		t.Logf("%s: %d page(s) in %s", name, rep.Pages, dir)
	}
}
