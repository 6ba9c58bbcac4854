// Package mixed writes the benchmark's realistic GP-bound backlog: a JSON
// Lines manifest whose mix of documents resembles what a sending system
// has to deliver (docs/performance-backfill.md says why this mix), and the
// files it names. Everything is generated deterministically: the same n
// gives the same bytes on every machine.
//
// Per 100 manifest lines:
//
//	30 letters             1-3 page text PDFs (standard)
//	10 scanned documents    2-4 page PDFs of 150 dpi greyscale page scans (standard)
//	20 phone photos         12 MP JPEGs of 2-4 MB; 6 carry an EXIF orientation
//	                        (sideways), 2 are over 5 MB and must be downsampled
//	                        (16 standard, 4 instant)
//	10 PNG screenshots      1920x1080 (8 standard; 2 instant, converted to JPEG)
//	15 text notes           plain text and consultation notes (standard, instant)
//	15 GP Connect lines     a consultation rendered to the report PDF
//
// Files are shared between lines the way a real backlog shares nothing but
// a template: there are a few dozen distinct files, each line reads its
// file afresh (so the cost of reading, checking and encoding is paid per
// line, as it is in production), and every line has its own sourceId.
package mixed

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/internal/testpdf"
)

// Kind names a kind of document in the mix.
type Kind string

// The kinds of document in the mix.
const (
	Letter     Kind = "letter"
	Scan       Kind = "scan"
	Photo      Kind = "photo"
	BigPhoto   Kind = "photo-over-5MB"
	Screenshot Kind = "png-screenshot"
	Note       Kind = "text-note"
	Report     Kind = "gpconnect-report"
)

// pattern is the mix of 100 lines, in the order they repeat. It interleaves
// the kinds so that any prefix of the manifest has about the same mix.
var pattern = func() []Kind {
	counts := []struct {
		k Kind
		n int
	}{{Letter, 30}, {Scan, 10}, {Photo, 18}, {BigPhoto, 2}, {Screenshot, 10}, {Note, 15}, {Report, 15}}
	// Spread each kind evenly over the 100 slots (largest remainder).
	out := make([]Kind, 0, 100)
	acc := make([]float64, len(counts))
	for range 100 {
		best := 0
		for i, c := range counts {
			acc[i] += float64(c.n) / 100
			if acc[i] > acc[best] {
				best = i
			}
		}
		acc[best]--
		out = append(out, counts[best].k)
	}
	return out
}()

// Mix counts the lines of each kind a manifest has.
type Mix map[Kind]int

// Files is what Write produced.
type Files struct {
	Manifest string // the manifest's path
	Dir      string // the folder the manifest's paths are relative to
	Lines    int
	Mix      Mix
	Bytes    int64 // total bytes of the files the lines name, counted per line
}

// The distinct files, generated once per folder.
const (
	letterVariants = 6
	scanVariants   = 3
	photoVariants  = 4 // two upright, one orientation 6, one orientation 8
	pngVariants    = 2
	noteVariants   = 3
)

// Write generates the files and an n-line manifest in dir. It takes a few
// seconds (the photos dominate), and reuses files already in dir from an
// earlier call with the same generator version.
func Write(dir string, n int) (*Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	file := func(name string, make func() ([]byte, error)) (string, error) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil {
			sizes[name] = st.Size()
			return name, nil
		}
		b, err := make()
		if err != nil {
			return "", fmt.Errorf("mixed: %s: %w", name, err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return "", err
		}
		sizes[name] = int64(len(b))
		return name, nil
	}
	var letters, scans, photos, pngs, notes []string
	for i := range letterVariants {
		name, err := file(fmt.Sprintf("v1-letter-%d.pdf", i), func() ([]byte, error) { return letter(i), nil })
		if err != nil {
			return nil, err
		}
		letters = append(letters, name)
	}
	for i := range scanVariants {
		name, err := file(fmt.Sprintf("v1-scan-%d.pdf", i), func() ([]byte, error) { return scanned(i) })
		if err != nil {
			return nil, err
		}
		scans = append(scans, name)
	}
	for i := range photoVariants {
		name, err := file(fmt.Sprintf("v1-photo-%d.jpg", i), func() ([]byte, error) {
			return photo(4032, 3024, uint64(i), 88, []uint16{1, 1, 6, 8}[i])
		})
		if err != nil {
			return nil, err
		}
		photos = append(photos, name)
	}
	big, err := file("v1-photo-big.jpg", func() ([]byte, error) { return photo(4032, 3024, 99, 97, 1) })
	if err != nil {
		return nil, err
	}
	for i := range pngVariants {
		name, err := file(fmt.Sprintf("v1-screenshot-%d.png", i), func() ([]byte, error) { return screenshot(i) })
		if err != nil {
			return nil, err
		}
		pngs = append(pngs, name)
	}
	for i := range noteVariants {
		name, err := file(fmt.Sprintf("v1-note-%d.txt", i), func() ([]byte, error) { return note(i), nil })
		if err != nil {
			return nil, err
		}
		notes = append(notes, name)
	}

	f := &Files{Manifest: filepath.Join(dir, "manifest.jsonl"), Dir: dir, Lines: n, Mix: Mix{}}
	out, err := os.Create(f.Manifest)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	for i := range n {
		k := pattern[i%len(pattern)]
		f.Mix[k]++
		var l line
		switch k {
		case Letter:
			p := letters[i%len(letters)]
			l = standard(i, "Correspondence", attachment("Discharge letter.pdf", "application/pdf", p))
			f.Bytes += sizes[p]
		case Scan:
			p := scans[i%len(scans)]
			l = standard(i, "Correspondence", attachment("Scanned referral.pdf", "application/pdf", p))
			f.Bytes += sizes[p]
		case Photo, BigPhoto:
			p := big
			if k == Photo {
				p = photos[i%len(photos)]
			}
			a := attachment("Wound photo.jpg", "image/jpeg", p)
			if i%5 == 0 {
				l = instant(i, a)
			} else {
				l = standard(i, "Health", a)
			}
			f.Bytes += sizes[p]
		case Screenshot:
			p := pngs[i%len(pngs)]
			a := attachment("Results screenshot.png", "image/png", p)
			if i%5 == 0 { // the instant route takes no PNG: gpdoc converts it
				l = instant(i, a)
			} else {
				l = standard(i, "TestResults", a)
			}
			f.Bytes += sizes[p]
		case Note:
			p := notes[i%len(notes)]
			mime := "text/plain"
			if i%2 == 0 {
				mime = "text/vnd.qxlva.conneqt.consultation"
			}
			a := attachment("Consultation notes.txt", mime, p)
			if i%3 == 0 {
				l = instant(i, a)
			} else {
				l = standard(i, "Health", a)
			}
			f.Bytes += sizes[p]
		case Report:
			l = gpconnect(i)
		}
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return f, out.Close()
}

// line is a manifest line; fields in the API's names.
type line map[string]any

// nhsNumbers are valid (Modulus 11) test numbers.
var nhsNumbers = []string{"9434765919", "9547852140", "9690937286", "4010232137"}

func attachment(name, mime, path string) map[string]any {
	return map[string]any{"fileName": name, "mimeType": mime, "path": path}
}

func standard(i int, topic string, a map[string]any) line {
	return line{"route": "standard", "sourceId": fmt.Sprintf("mixed-%07d", i), "topic": topic,
		"recipient":   map[string]any{"id": map[string]any{"value": "G00001", "type": "OcsClientIdentifier"}},
		"subject":     map[string]any{"id": map[string]any{"value": nhsNumbers[i%len(nhsNumbers)], "type": "VerifiedNhsNumber"}},
		"body":        map[string]any{"mimeType": "text/plain", "content": fmt.Sprintf("Document %d for the patient's record", i)},
		"attachments": []any{a}}
}

func instant(i int, a map[string]any) line {
	return line{"route": "instant", "sourceId": fmt.Sprintf("mixed-%07d", i), "topic": "DispenseEventNotification",
		"recipient":   map[string]any{"id": map[string]any{"value": "GPPRAC001", "type": "OcsClientIdentifier"}},
		"subject":     map[string]any{"id": map[string]any{"value": nhsNumbers[i%len(nhsNumbers)], "type": "VerifiedNhsNumber"}},
		"body":        map[string]any{"mimeType": "text/html", "content": fmt.Sprintf("<p>Document %d</p>", i)},
		"attachments": []any{a}}
}

func gpconnect(i int) line {
	nhs := nhsNumbers[i%len(nhsNumbers)]
	sections := []any{
		map[string]any{"title": "History", "notes": "Cough for 5 days, no fever. Temperature at home 37.8 °C. No shortness of breath; eating and drinking normally."},
		map[string]any{"title": "Examination", "notes": "Chest clear, no wheeze. Throat mildly inflamed. Pulse 84, SpO2 98% on air."},
		map[string]any{"title": "Plan", "notes": "Self-care advice given: fluids, rest, paracetamol. Safety-netting: seek help if breathless or symptoms worsen."},
	}
	return line{"route": "gpconnect", "sourceId": fmt.Sprintf("mixed-%07d", i), "topic": "ConsultationSummary",
		"recipient":   map[string]any{"id": map[string]any{"value": "B86057", "type": "OdsOrganisationId"}},
		"subject":     map[string]any{"id": map[string]any{"value": nhs, "type": "NHSNumber"}},
		"body":        map[string]any{"mimeType": "text/plain", "content": "Consultation summary"},
		"attachments": []any{},
		"gpConnectAdditionalInformation": map[string]any{"recipientType": "For Information",
			"senderReference": fmt.Sprintf("Consultation-%07d", i), "confidentiality": false, "versionNumber": 1,
			"patient":      map[string]any{"name": map[string]any{"family": "Smith", "given": "Jane"}, "dateOfBirth": "1975-11-20"},
			"practitioner": map[string]any{"name": map[string]any{"family": "Evans", "given": "Aled"}, "telephone": "01249 751000"},
			"organisation": map[string]any{"telephone": "01249 751000", "email": "reception@example.org"},
			"typeCode":     "325871000000103", "typeDescription": "Remote consultation encounter type (record artifact)"},
		"consultation": map[string]any{"version": 1, "relatedDocuments": 0, "confidential": false,
			"patient":              map[string]any{"title": "Ms", "given": "Jane", "family": "Smith", "dateOfBirth": "1975-11-20", "nhsNumber": nhs, "homeAddress": "4 Harbour Row, Bristol BS1 4QA"},
			"clinician":            map[string]any{"name": "Dr Aled Evans", "role": "General Practitioner", "telephone": "01249 751000"},
			"organisation":         map[string]any{"name": "Harbourside Online Clinic", "address": "1 Quay Street, Bristol BS1 4DJ", "telephone": "01249 751000"},
			"receivingPractice":    map[string]any{"name": "Clifton Village Practice", "odsCode": "B86057"},
			"consultationDateTime": "2026-11-20T14:30:00Z",
			"sections":             sections,
			"codedItems":           []any{map[string]any{"code": "407554009", "display": "Sitting systolic blood pressure", "value": "128", "units": "mmHg"}},
			"followUpActions":      []any{"Review in 7 days if not improving"}}}
}

// letter is a 1-3 page typed letter.
func letter(v int) []byte {
	r := rand.New(rand.NewPCG(uint64(v), 1))
	words := []string{"patient", "reviewed", "clinic", "today", "blood", "pressure", "stable", "medication",
		"continue", "follow-up", "weeks", "results", "normal", "advised", "discharge", "summary", "history"}
	pages := make([][]string, 1+v%3)
	for p := range pages {
		for l := 0; l < 60; l++ {
			s := ""
			for len(s) < 80 {
				s += words[r.IntN(len(words))] + " "
			}
			pages[p] = append(pages[p], s)
		}
	}
	return testpdf.Pages(pages...)
}

// scanned is a 2-4 page scan at 150 dpi greyscale (1240x1754 a page).
func scanned(v int) ([]byte, error) {
	var scans []testpdf.Scan
	for p := range 2 + v%3 {
		img := testimage.Photo(1240, 1754, uint64(100+10*v+p))
		gray := image.NewGray(img.Bounds())
		for y := 0; y < 1754; y++ {
			for x := 0; x < 1240; x++ {
				c := img.RGBAAt(x, y)
				// Paper white with faint texture and dark "text" bands.
				g := 235 + int(c.R)%20
				if (y/14)%3 == 0 && x > 100 && x < 1140 && (x/9+y/14)%7 != 0 {
					g = 40 + int(c.G)%40
				}
				gray.SetGray(x, y, color.Gray{Y: uint8(min(g, 255))})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, gray, &jpeg.Options{Quality: 75}); err != nil {
			return nil, err
		}
		scans = append(scans, testpdf.Scan{JPEG: b.Bytes(), Width: 1240, Height: 1754, Gray: true})
	}
	return testpdf.Scanned(scans...), nil
}

// photo is a w x h photo-like JPEG at quality q with an EXIF orientation
// (1: none written).
func photo(w, h int, seed uint64, q int, orientation uint16) ([]byte, error) {
	img := testimage.Photo(w, h, seed)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	if orientation == 1 {
		return b.Bytes(), nil
	}
	return withOrientation(b.Bytes(), orientation), nil
}

// withOrientation inserts an APP1 Exif segment holding one IFD0 entry,
// Orientation, after the SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8)) // IFD0 offset
	binary.Write(&tiff, binary.LittleEndian, uint16(1)) // one entry
	binary.Write(&tiff, binary.LittleEndian, uint16(0x0112))
	binary.Write(&tiff, binary.LittleEndian, uint16(3)) // SHORT
	binary.Write(&tiff, binary.LittleEndian, uint32(1))
	binary.Write(&tiff, binary.LittleEndian, o)
	binary.Write(&tiff, binary.LittleEndian, uint16(0))
	binary.Write(&tiff, binary.LittleEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// screenshot is a 1920x1080 flat-colour UI-like PNG.
func screenshot(v int) ([]byte, error) {
	img := testimage.Graphic(1920, 1080, 16+16*v, false)
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

func note(v int) []byte {
	var b bytes.Buffer
	for i := range 20 + 20*v {
		fmt.Fprintf(&b, "Line %d of the consultation note: patient seen, history taken, advice given, safety-netting discussed.\n", i)
	}
	return b.Bytes()
}
