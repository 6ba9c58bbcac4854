package downsample

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/pipeline"
)

func newDoc(route conneqt.RouteName, atts ...*conneqt.Attachment) *pipeline.Document {
	return &pipeline.Document{Route: conneqt.MustRoute(route), Message: &conneqt.Message{Attachments: atts}}
}

func TestStage(t *testing.T) {
	photo := photo4MP(t)
	transparent := encodePNG(t, testimage.Graphic(600, 400, 6, true), png.DefaultCompression)
	small := tinyJPEG(t)
	tests := []struct {
		name         string
		route        conneqt.RouteName
		att          conneqt.Attachment
		opts         Options
		wantChanged  bool
		wantMIME     string
		wantFileName string
		wantProblem  string // substring of the problem's reason
		wantDetail   string // substring of the content change's detail
	}{
		{"small JPEG untouched", conneqt.Standard, conneqt.Attachment{FileName: "a.jpg", MIMEType: "image/jpeg", Data: small},
			Options{}, false, "image/jpeg", "a.jpg", "", ""},
		{"4MP JPEG fitted to a 1 MB limit", conneqt.Standard, conneqt.Attachment{FileName: "wound.jpg", MIMEType: "image/jpeg", Data: photo},
			Options{MaxBytes: 1_000_000}, true, "image/jpeg", "wound.jpg", "", "JPEG re-quantised to quality"},
		{"PNG on the instant route becomes JPEG", conneqt.Instant, conneqt.Attachment{FileName: "chart.PNG", MIMEType: "image/png", Data: transparent},
			Options{}, true, "image/jpeg", "chart.jpg", "", "transparent areas flattened on white"},
		{"PNG on the standard route under the limit untouched", conneqt.Standard, conneqt.Attachment{FileName: "chart.png", MIMEType: "image/png", Data: transparent},
			Options{}, false, "image/png", "chart.png", "", ""},
		{"PNG on the GP Connect route (neither PNG nor JPEG) left to validate", conneqt.GPConnect, conneqt.Attachment{FileName: "chart.png", MIMEType: "image/png", Data: transparent},
			Options{}, false, "image/png", "chart.png", "", ""},
		{"text over the limit is left to the size gate", conneqt.Standard, conneqt.Attachment{FileName: "n.txt", MIMEType: "text/plain", Data: bytes.Repeat([]byte("a"), 2000)},
			Options{MaxBytes: 1000}, false, "text/plain", "n.txt", "", ""},
		{"damaged JPEG over the limit is a problem", conneqt.Standard, conneqt.Attachment{FileName: "d.jpg", MIMEType: "image/jpeg", Data: append(bytes.Clone(small[:20]), make([]byte, 2000)...)},
			Options{MaxBytes: 1000}, false, "image/jpeg", "d.jpg", "could not be decoded", ""},
		{"photo that cannot fit at the floor is left to the size gate, with a warning", conneqt.Standard, conneqt.Attachment{FileName: "p.jpg", MIMEType: "image/jpeg", Data: photo},
			Options{MaxBytes: 50_000}, false, "image/jpeg", "p.jpg", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			att := tt.att
			before := att.Data
			doc := newDoc(tt.route, &att)
			err = s.ProcessAttachment(context.Background(), doc, 0)
			if tt.wantProblem != "" {
				var ve *conneqt.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[0].content" ||
					!strings.Contains(ve.Problems[0].Reason, tt.wantProblem) {
					t.Fatalf("err = %v, want one problem for attachments[0].content about %q", err, tt.wantProblem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			changed := !bytes.Equal(before, att.Data)
			if changed != tt.wantChanged || att.MIMEType != tt.wantMIME || att.FileName != tt.wantFileName {
				t.Fatalf("changed %v, %s %q; want %v, %s %q", changed, att.MIMEType, att.FileName, tt.wantChanged, tt.wantMIME, tt.wantFileName)
			}
			// What cannot be fitted is left to the size gate, with a
			// warning that says how close fitting came.
			wantWarning := map[string]string{"photo that cannot fit at the floor is left to the size gate, with a warning": "the smallest encoding reached"}[tt.name]
			if ws := doc.Warnings(); (wantWarning == "") != (len(ws) == 0) || (wantWarning != "" && !strings.Contains(ws[0].Reason, wantWarning)) {
				t.Errorf("warnings %v, want one saying %q", ws, wantWarning)
			}
			changes := doc.Changes()
			if !tt.wantChanged {
				if len(changes) != 0 {
					t.Fatalf("unexpected changes %+v", changes)
				}
				return
			}
			limit := doc.Route.MaxAttachmentBytes
			if tt.opts.MaxBytes > 0 {
				limit = tt.opts.MaxBytes
			}
			if int64(len(att.Data)) > limit {
				t.Fatalf("output %d bytes, over the limit %d", len(att.Data), limit)
			}
			var content *pipeline.Change
			for i := range changes {
				if changes[i].Name == "attachments[0].content" {
					content = &changes[i]
				}
			}
			if content == nil || content.Stage != "downsample" || !strings.Contains(content.Detail, tt.wantDetail) {
				t.Fatalf("changes %+v: want a downsample change of attachments[0].content saying %q", changes, tt.wantDetail)
			}
			for _, k := range []string{"originalBytes", "finalBytes", "steps", "encodes", "quality", "finalWidth"} {
				if _, ok := content.Data[k]; !ok {
					t.Errorf("change data lacks %q: %v", k, content.Data)
				}
			}
			if tt.wantFileName != tt.att.FileName && len(changes) != 3 {
				t.Errorf("want content, mimeType and fileName changes, got %+v", changes)
			}
		})
	}
}

// TestStageInRunner runs the stage through pipeline.Runner: a problem
// found here stops the document with a *ValidationError.
func TestStageInRunner(t *testing.T) {
	s, err := New(Options{MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{s}}
	small := tinyJPEG(t)
	doc := newDoc(conneqt.Standard,
		&conneqt.Attachment{FileName: "ok.jpg", MIMEType: "image/jpeg", Data: small},
		&conneqt.Attachment{FileName: "damaged.jpg", MIMEType: "image/jpeg", Data: append(bytes.Clone(small[:20]), make([]byte, 2000)...)})
	err = r.Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1].content" {
		t.Fatalf("err = %v, want a problem for attachments[1].content", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{{MinQuality: 95, MaxQuality: 80}, {MaxBytes: -1}, {MaxQuality: 101}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted bad options", o)
		}
	}
}

func TestJPEGName(t *testing.T) {
	for in, want := range map[string]string{"a.png": "a.jpg", "B.PNG": "B.jpg", "c.jpeg": "c.jpeg", "scan": "scan.jpg", "": "", "x.tiff": "x.tiff.jpg"} {
		if got := jpegName(in); got != want {
			t.Errorf("jpegName(%q) = %q, want %q", in, got, want)
		}
	}
}
