package downsample_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	pngenc "image/png"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/downsample"
)

// A 4 MP photo fitted under 400 kB: quality is searched first; the image
// is scaled only because quality 60 would not be enough.
func ExampleFitJPEG() {
	var in bytes.Buffer
	jpeg.Encode(&in, testimage.Photo(2400, 1600, 1), &jpeg.Options{Quality: 95})

	out, rep, err := downsample.FitJPEG(context.Background(), in.Bytes(), downsample.Options{MaxBytes: 400_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out) <= 400_000, rep.FinalWidth >= downsample.DefaultMinLongEdge, rep.Quality >= downsample.DefaultMinQuality)
	// Output: true true true
}

// The stage in a pipeline: a PNG on the instant route, which does not
// accept PNG, becomes a JPEG, and the change is reported.
func ExampleNew() {
	stage, err := downsample.New(downsample.Options{})
	if err != nil {
		panic(err)
	}
	var png bytes.Buffer
	if err := pngenc.Encode(&png, testimage.Graphic(300, 200, 4, true)); err != nil {
		panic(err)
	}

	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Instant), Message: &conneqt.Message{
		Attachments: []*conneqt.Attachment{{FileName: "chart.png", MIMEType: conneqt.MIMEPNG, Data: png.Bytes()}}}}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{stage}}
	if err := r.Process(context.Background(), doc); err != nil {
		panic(err)
	}
	att := doc.Message.Attachments[0]
	fmt.Println(att.FileName, att.MIMEType)
	for _, c := range doc.Changes() {
		fmt.Println(c.Name, c.Action)
	}
	// Output:
	// chart.jpg image/jpeg
	// attachments[0].content converted
	// attachments[0].fileName renamed
	// attachments[0].mimeType changed
}
