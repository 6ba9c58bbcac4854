package render_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gpdoc/gpdoc/stages/render"
)

func ExampleStage_Render() {
	raw := []byte(`{
	  "version": 1, "relatedDocuments": 0, "confidential": false,
	  "patient": {"title": "Ms", "given": "Zoë", "family": "Ó'Brien", "dateOfBirth": "1975-11-20", "nhsNumber": "969 093 7286"},
	  "clinician": {"name": "Dr Aled Evans", "role": "General Practitioner"},
	  "organisation": {"name": "Harbourside Online Clinic"},
	  "consultationDateTime": "2026-11-20T14:30:00Z",
	  "receivingPractice": {"name": "Clifton Village Practice", "odsCode": "B86057"},
	  "sections": [{"title": "History", "notes": "Cough for 5 days. Temperature 37.8 °C."}]
	}`)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c, err := render.Parse(raw, now)
	if err != nil {
		log.Fatal(err)
	}
	stage, err := render.New(render.Options{})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := stage.Render(context.Background(), c, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.FileName, rep.Pages, string(rep.PDF[:8]))
	// Output: Consultation Report - 20-Nov-2026.pdf 1 %PDF-1.7
}
