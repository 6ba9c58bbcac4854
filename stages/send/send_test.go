package send_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// assemble stands in for the assemble stage.
var assemble = pipeline.MessageFunc("assemble", func(_ context.Context, doc *pipeline.Document) error {
	doc.Payload = transport.BytesPayload(conneqttest.Marshal(doc.Message))
	return nil
})

func TestStageOutcomes(t *testing.T) {
	s := conneqttest.NewServer(conneqttest.Options{})
	defer s.Close()
	c, err := transport.New(transport.Options{BaseURL: s.URL, APIKey: s.APIKey(), AccessToken: s.GrantAccessToken(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	runner := &pipeline.Runner{Stages: pipeline.Pipeline{assemble, send.New(c)}}

	virus := conneqttest.SampleMessage(pipeline.Standard)
	virus.Attachments = append(virus.Attachments, &pipeline.Attachment{FileName: "e.txt", MIMEType: pipeline.MIMEText, Data: []byte(conneqttest.EICAR)})
	invalid := conneqttest.SampleMessage(pipeline.Standard)
	invalid.Body.MIMEType = "text/html"
	invalid.Subject.ID.Type = "NHSNumber"
	conflict := conneqttest.SampleMessage(pipeline.GPConnect)

	tests := []struct {
		name     string
		route    pipeline.RouteName
		msg      *pipeline.Message
		before   func()
		outcome  transport.Outcome
		problems []string
	}{
		{"sent", pipeline.Instant, conneqttest.SampleMessage(pipeline.Instant), nil, transport.Sent, nil},
		{"invalid", pipeline.Standard, invalid, nil, transport.Invalid, []string{"body.mimeType", "subject.id.type"}},
		{"rejected content", pipeline.Standard, virus, nil, transport.RejectedContent, nil},
		{"unavailable", pipeline.GPConnect, conneqttest.SampleMessage(pipeline.GPConnect), func() { s.FailNext(1, 503, "") }, transport.FailedRetryable, nil},
		{"conflict", pipeline.GPConnect, conflict, func() {
			other := *conflict
			other.Topic = "Health"
			if _, err := c.Send(context.Background(), pipeline.MustRoute(pipeline.GPConnect), other.MessageID, transport.BytesPayload(conneqttest.Marshal(&other))); err != nil {
				t.Fatal(err)
			}
		}, transport.FailedPermanent, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			doc := &pipeline.Document{Route: pipeline.MustRoute(tt.route), Message: tt.msg}
			err := runner.Process(context.Background(), doc)
			if got := transport.Classify(err); got != tt.outcome {
				t.Fatalf("outcome %v, want %v (err %v)", got, tt.outcome, err)
			}
			if (tt.outcome == transport.Sent) != (doc.StatusEndpoint != "") {
				t.Errorf("StatusEndpoint %q", doc.StatusEndpoint)
			}
			var got []string
			for _, p := range doc.Problems() {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, tt.problems) {
				t.Errorf("problems %v, want %v", got, tt.problems)
			}
			if tt.outcome == transport.RejectedContent {
				var re *send.RejectedError
				if !errors.As(err, &re) || len(re.AttachmentSHA256) != 2 {
					t.Fatalf("err %v is not a *send.RejectedError with 2 digests", err)
				}
				sum := sha256.Sum256([]byte(conneqttest.EICAR))
				if re.AttachmentSHA256[1] != hex.EncodeToString(sum[:]) {
					t.Errorf("digest %s", re.AttachmentSHA256[1])
				}
			}
		})
	}
}

func TestNoPayload(t *testing.T) {
	st := send.New(nil)
	doc := &pipeline.Document{Route: pipeline.MustRoute(pipeline.Standard), Message: conneqttest.SampleMessage(pipeline.Standard)}
	if err := st.ProcessMessage(context.Background(), doc); !errors.Is(err, send.ErrNoPayload) {
		t.Errorf("err %v", err)
	}
	if st.Name() != "send" {
		t.Errorf("name %q", st.Name())
	}
}
