package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/internal/pdfcpusetup"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

// exampleLine returns line n (1-based) of testdata/examples/manifest.jsonl
// with its sourceId replaced.
func exampleLine(t *testing.T, n int, sourceID string) string {
	t.Helper()
	line := strings.Split(mustRead(t, examples), "\n")[n-1]
	var old string
	for _, f := range strings.Split(line, ",") {
		if v, ok := strings.CutPrefix(f, `"sourceId":`); ok {
			old = v
			break
		}
	}
	if old == "" {
		t.Fatalf("example line %d has no sourceId", n)
	}
	return strings.Replace(line, `"sourceId":`+old, `"sourceId":"`+sourceID+`"`, 1)
}

// writeFixtures writes, into dir, the files the manifests below name: the
// example files, the example PDF with JavaScript added (sanitised), a
// 12 MP photo well over 5 MB (downsampled) and a small PNG (converted to
// JPEG on the instant route). The images are generated from fixed seeds.
func writeFixtures(t *testing.T, dir string, bigPhoto bool) {
	t.Helper()
	pdfcpusetup.Do()
	ctx, err := api.ReadContext(bytes.NewReader([]byte(mustRead(t, "../../testdata/examples/discharge-letter.pdf"))), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	root, err := ctx.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	root["OpenAction"] = types.Dict{"S": types.Name("JavaScript"), "JS": types.StringLiteral("app.alert('x')")}
	var pdf bytes.Buffer
	if err := api.WriteContext(ctx, &pdf); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "letter-js.pdf"), pdf.String())
	for _, name := range []string{"consultation-note.txt", "discharge-letter.pdf", "wound-photo.jpg"} {
		writeFile(t, filepath.Join(dir, name), mustRead(t, "../../testdata/examples/"+name))
	}
	var img bytes.Buffer
	if err := png.Encode(&img, testimage.Photo(640, 480, 9)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "small.png"), img.String())
	if bigPhoto {
		img.Reset()
		if err := jpeg.Encode(&img, testimage.Photo(4000, 3000, 7), &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		if img.Len() <= 5<<20 {
			t.Fatalf("the photo is only %d bytes: it would not be downsampled", img.Len())
		}
		writeFile(t, filepath.Join(dir, "big-photo.jpg"), img.String())
	}
}

const lineHead = `"topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"note %[2]d"}`

// Lines on every route, for the tests below.
func sanitisedLine(i int) string {
	return fmt.Sprintf(`{"route":"standard","sourceId":"letter-%[1]d",`+lineHead+`,"attachments":[{"fileName":"Letter.pdf","mimeType":"application/pdf","path":"letter-js.pdf"},{"fileName":"Notes","mimeType":"text/vnd.qxlva.conneqt.consultation","path":"consultation-note.txt"}]}`, i, i)
}

func photoLine(i int) string {
	return fmt.Sprintf(`{"route":"standard","sourceId":"photo-%[1]d",`+lineHead+`,"attachments":[{"fileName":"Photo.jpg","mimeType":"image/jpeg","path":"big-photo.jpg"}]}`, i, i)
}

func pngLine(i int) string {
	return fmt.Sprintf(`{"route":"instant","sourceId":"png-%[1]d","topic":"DispenseEventNotification","recipient":{"id":{"value":"GPPRAC001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9547852140","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"photo %[1]d"},"attachments":[{"fileName":"Dressing.png","mimeType":"image/png","path":"small.png"}]}`, i)
}

func textLine(i int) string {
	content := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "Clinical note %d.\n", i))
	return fmt.Sprintf(`{"route":"standard","sourceId":"text-%[1]d",`+lineHead+`,"attachments":[{"fileName":"note.txt","mimeType":"text/plain","content":"%[3]s"}]}`, i, i, content)
}

// TestDryRunIsReproducible: two `gpdoc backfill --dry-run` processes, with
// different --concurrency and a second apart on the clock, write the same
// bytes for a manifest with every route: a rendered report, a sanitised
// PDF, a downsampled photo and a PNG converted on the instant route.
//
// The report's bytes depend on the render stage using the document's
// reference time instead of the clock (the report helper's change).
func TestDryRunIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpdoc and runs processes")
	}
	bin := gpdocBinary(t)
	dir := t.TempDir()
	writeFixtures(t, dir, true)
	man := filepath.Join(dir, "m.jsonl")
	lines := []string{sanitisedLine(1), photoLine(1), pngLine(1), exampleLine(t, 3, "consult-1"), textLine(1),
		exampleLine(t, 1, "letter-example"), exampleLine(t, 2, "photo-example")}
	writeFile(t, man, strings.Join(lines, "\n")+"\n")

	outs := make([]string, 2)
	for i, conc := range []int{1, 8} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // a clock in the output would now differ
		}
		outs[i] = filepath.Join(dir, "out-"+strconv.Itoa(conc))
		report := outs[i] + ".report.jsonl"
		cmd := exec.Command(bin, "backfill", "--dry-run", outs[i], "--concurrency", strconv.Itoa(conc),
			"--progress", "none", "--report", report, man)
		if out, err := cmd.CombinedOutput(); err != nil {
			rep, _ := os.ReadFile(report)
			t.Fatalf("dry run (concurrency %d): %v\n%s\n%s", conc, err, out, rep)
		}
		if i == 0 {
			// Every stage that matters here did its work.
			rep := mustRead(t, report)
			for _, want := range []string{"rendered consultation report", "removed active content", "downsampled", "converted"} {
				if !strings.Contains(rep, want) {
					t.Errorf("the report never says %q:\n%s", want, rep)
				}
			}
		}
	}
	results := readResults(t, outs[0]+".report.jsonl")
	files, _ := filepath.Glob(filepath.Join(outs[0], "*.json"))
	if len(files) != len(lines) {
		t.Fatalf("dry run wrote %d files, want %d", len(files), len(lines))
	}
	for _, f := range files {
		a, b := mustRead(t, f), mustRead(t, filepath.Join(outs[1], filepath.Base(f)))
		if a != b {
			id := strings.TrimSuffix(filepath.Base(f), ".json")
			t.Errorf("message %s (sourceId %s) differs between the runs (%d and %d bytes)", id, results[id].SourceID, len(a), len(b))
		}
	}
}

// TestBackfillExactlyOnce: the simulator loses 30% of its answers after
// storing the message; two `gpdoc backfill` processes start at once on one
// ledger: one runs, the other is refused at once with exit 2 and names the
// holder. The one that runs is killed part-way. Re-runs until exit 0 then
// leave every message accepted exactly once, with no 409: resends from
// another process carry the same bytes (the rendered reports included,
// which depends on the render stage using the reference time).
func TestBackfillExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpdoc and runs processes")
	}
	bin := gpdocBinary(t)
	url := startSim(t, bin, 20*time.Millisecond, "--drop", "0.3", "--after-store", "1", "--seed", "13")
	dir := t.TempDir()
	writeFixtures(t, dir, false)
	man := filepath.Join(dir, "m.jsonl")
	// The reports first: they are in flight, and some of their answers
	// lost, when the run is killed.
	var lines []string
	for i := range 4 {
		lines = append(lines, exampleLine(t, 3, "consult-"+strconv.Itoa(i)))
	}
	for i := range 4 {
		lines = append(lines, sanitisedLine(i), pngLine(i))
	}
	for i := range 24 {
		lines = append(lines, textLine(i))
	}
	writeFile(t, man, strings.Join(lines, "\n")+"\n")
	n := len(lines)
	report := filepath.Join(dir, "report.jsonl")
	backfillCmd := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "backfill", "--url", url, "--concurrency", "4", "--progress", "none", "--report", report, man)
		cmd.Env = append(os.Environ(), "CONNEQT_API_KEY=crash-key", "CONNEQT_ACCESS_TOKEN=crash-token")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}

	a, aOut := backfillCmd()
	b, bOut := backfillCmd()
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	// The refused run ends at once; the other is killed (SIGKILL) part-way,
	// leaving messages sending whose answers may have been lost, so that
	// the re-runs below resend them from another process.
	waits := make(chan *exec.Cmd, 2)
	for _, c := range []*exec.Cmd{a, b} {
		go func() { c.Wait(); waits <- c }()
	}
	refused := <-waits
	ran, refusedOut := a, bOut
	if refused == a {
		ran, refusedOut = b, aOut
	}
	if code := refused.ProcessState.ExitCode(); code != exitUsage {
		<-waits
		t.Fatalf("the first run to end exited %d, want %d (refused)\nfirst:\n%s\nsecond:\n%s", code, exitUsage, aOut, bOut)
	}
	if want := "in use by process " + strconv.Itoa(ran.Process.Pid); !strings.Contains(refusedOut.String(), want) {
		t.Fatalf("the refused run does not name the holder (%q):\n%s", want, refusedOut)
	}
	deadline := time.Now().Add(time.Minute)
	for simStats(t, url).Accepted < 3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	// Read-only commands work while the run holds the ledger.
	if out, err := exec.Command(bin, "ledger", "stats", man+".ledger.db").CombinedOutput(); err != nil {
		t.Errorf("ledger stats while a run holds the ledger: %v\n%s", err, out)
	}
	ran.Process.Signal(syscall.SIGKILL)
	<-waits
	t.Logf("killed after %d accepted; left sending: %v", simStats(t, url).Accepted, sendingSources(t, man+".ledger.db"))
	time.Sleep(1100 * time.Millisecond) // a clock in the payloads would now differ

	for run := 1; ; run++ {
		if st := simStats(t, url); st.Conflicts != 0 {
			t.Fatalf("run %d: the simulator answered %d 409s", run, st.Conflicts)
		}
		cmd, out := backfillCmd()
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if code == exitOK {
			break
		}
		t.Logf("re-run %d: exit %d", run, code)
		if code != exitFailed || run == 8 {
			var failed []string
			for _, r := range readResults(t, report) {
				if r.Outcome != "sent" && r.Outcome != "skipped" {
					failed = append(failed, fmt.Sprintf("%s: %s %s %s", r.SourceID, r.Outcome, r.Reason, r.Error))
				}
			}
			t.Fatalf("re-run %d: exit %d (%v)\n%s\n%s", run, code, err, out, strings.Join(failed, "\n"))
		}
	}
	st := simStats(t, url)
	ls := ledgerStats(t, man+".ledger.db")
	if st.Accepted != int64(n) || st.Conflicts != 0 || st.Rejected != 0 || ls[ledger.Sent] != n || ls.Total() != n {
		t.Fatalf("simulator %+v, ledger %v, want %d accepted once each", st, ls, n)
	}
	if st.LostResponses == 0 {
		t.Fatal("the simulator lost no answers: the test proves nothing")
	}
	// The ledger knows what it sent, and a run holds no lock any more.
	l, err := sqlite.Open(context.Background(), man+".ledger.db", sqlite.Options{})
	if err != nil {
		t.Fatalf("open after the runs: %v", err)
	}
	l.Close()
}

// sendingSources lists the sourceIds a ledger holds in state sending.
func sendingSources(t *testing.T, path string) []string {
	t.Helper()
	l, err := sqlite.Open(context.Background(), path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []string
	l.Entries(context.Background(), func(e ledger.Entry) error {
		if e.State == ledger.Sending {
			out = append(out, e.SourceID)
		}
		return nil
	})
	return out
}
