package validate

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
)

var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func examplePDF(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "discharge-letter.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.Set(x, y, color.RGBA{uint8(6 * x), uint8(8 * y), 90, 255})
		}
	}
	return img
}

func testJPEG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// patchSOF rewrites the first SOF0 marker of a JPEG: its type and size.
func patchSOF(t testing.TB, data []byte, marker byte, w, h int) []byte {
	t.Helper()
	b := bytes.Clone(data)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	b[i+1] = marker
	b[i+5], b[i+6] = byte(h>>8), byte(h)
	b[i+7], b[i+8] = byte(w>>8), byte(w)
	return b
}

// pdfWith returns the example PDF with edit applied to its catalog.
func pdfWith(t testing.TB, edit func(ctx *model.Context)) []byte {
	t.Helper()
	pdfdoc.Setup()
	ctx, err := api.ReadContext(bytes.NewReader(examplePDF(t)), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	edit(ctx)
	var b bytes.Buffer
	if err := api.WriteContext(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jsPDF(t testing.TB) []byte {
	return pdfWith(t, func(ctx *model.Context) {
		root, err := ctx.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		root["OpenAction"] = types.Dict{"S": types.Name("JavaScript"), "JS": types.StringLiteral("app.alert('x')")}
	})
}

func encryptedPDF(t testing.TB) []byte {
	t.Helper()
	pdfdoc.Setup()
	conf := model.NewAESConfiguration("user-secret", "owner-secret", 256)
	var b bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(examplePDF(t)), &b, conf); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func baseMessage(route conneqt.RouteName, atts ...*conneqt.Attachment) *conneqt.Message {
	m := &conneqt.Message{
		MessageID:   "869c3439-fcb8-4546-b372-2af2bf54e197",
		Type:        conneqt.MustRoute(route).MessageType,
		Topic:       "Health",
		Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Discharge letter"},
		Attachments: atts,
	}
	if route == conneqt.GPConnect {
		f := false
		m.Recipient.ID = conneqt.Identifier{Value: "B86057", Type: conneqt.IDOdsOrganisation}
		m.Subject.ID.Type = conneqt.IDNHSNumber
		m.GPConnectAdditionalInformation = &conneqt.GPConnectInfo{
			RecipientType:   "For Information",
			SenderReference: "Consultation-27542d94",
			Confidentiality: &f,
			VersionNumber:   1,
			Patient:         conneqt.GPPatient{Name: conneqt.HumanName{Family: "Jones", Given: "Henry"}, DateOfBirth: "1975-11-20"},
			Practitioner:    &conneqt.Practitioner{Name: conneqt.HumanName{Family: "Evans"}, Telephone: "01249 751000"},
			Organisation:    &conneqt.Contact{Email: "reception@example.org"},
			TypeCode:        "325871000000103",
			TypeDescription: "Remote consultation encounter type (record artifact)",
		}
	}
	return m
}

func pdfAttachment(t testing.TB) *conneqt.Attachment {
	return &conneqt.Attachment{FileName: "Discharge letter.pdf", MIMEType: conneqt.MIMEPDF, Data: examplePDF(t)}
}
