package send_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
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

	virus := conneqttest.SampleMessage(conneqt.Standard)
	virus.Attachments = append(virus.Attachments, &conneqt.Attachment{FileName: "e.txt", MIMEType: conneqt.MIMEText, Data: []byte(conneqttest.EICAR)})
	invalid := conneqttest.SampleMessage(conneqt.Standard)
	invalid.Body.MIMEType = "text/html"
	invalid.Subject.ID.Type = "NHSNumber"
	conflict := conneqttest.SampleMessage(conneqt.GPConnect)

	tests := []struct {
		name     string
		route    conneqt.RouteName
		msg      *conneqt.Message
		before   func()
		outcome  conneqt.Outcome
		problems []string
	}{
		{"sent", conneqt.Instant, conneqttest.SampleMessage(conneqt.Instant), nil, conneqt.Sent, nil},
		{"invalid", conneqt.Standard, invalid, nil, conneqt.Invalid, []string{"body.mimeType", "subject.id.type"}},
		{"rejected content", conneqt.Standard, virus, nil, conneqt.RejectedContent, nil},
		{"unavailable", conneqt.GPConnect, conneqttest.SampleMessage(conneqt.GPConnect), func() { s.FailNext(1, 503, "") }, conneqt.FailedRetryable, nil},
		{"conflict", conneqt.GPConnect, conflict, func() {
			other := *conflict
			other.Topic = "Health"
			if _, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), other.MessageID, transport.BytesPayload(conneqttest.Marshal(&other))); err != nil {
				t.Fatal(err)
			}
		}, conneqt.FailedPermanent, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			doc := &pipeline.Document{Route: conneqt.MustRoute(tt.route), Message: tt.msg}
			err := runner.Process(context.Background(), doc)
			if got := conneqt.Classify(err); got != tt.outcome {
				t.Fatalf("outcome %v, want %v (err %v)", got, tt.outcome, err)
			}
			if (tt.outcome == conneqt.Sent) != (doc.StatusEndpoint != "") {
				t.Errorf("StatusEndpoint %q", doc.StatusEndpoint)
			}
			var got []string
			for _, p := range doc.Problems() {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, tt.problems) {
				t.Errorf("problems %v, want %v", got, tt.problems)
			}
			if tt.outcome == conneqt.RejectedContent {
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
	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Standard), Message: conneqttest.SampleMessage(conneqt.Standard)}
	if err := st.ProcessMessage(context.Background(), doc); !errors.Is(err, send.ErrNoPayload) {
		t.Errorf("err %v", err)
	}
	if st.Name() != "send" {
		t.Errorf("name %q", st.Name())
	}
}
