package assemble_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// body assembles m on route and reads the whole body once.
func body(t testing.TB, route conneqt.RouteName, m *conneqt.Message) (*assemble.Payload, []byte) {
	t.Helper()
	p, err := assemble.New(conneqt.MustRoute(route), m)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b, err := io.ReadAll(p.NewReader())
	if err != nil {
		t.Fatalf("reading the payload: %v", err)
	}
	if int64(len(b)) != p.Size() {
		t.Fatalf("read %d bytes, Size() = %d", len(b), p.Size())
	}
	return p, b
}

// marshal is what encoding/json makes of the wire form of m.
func marshal(t testing.TB, route conneqt.RouteName, m *conneqt.Message) []byte {
	t.Helper()
	w, err := assemble.Wire(conneqt.MustRoute(route), m)
	if err != nil {
		t.Fatalf("Wire: %v", err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}

func TestGolden(t *testing.T) {
	for _, ex := range examples {
		t.Run(string(ex.route), func(t *testing.T) {
			_, got := body(t, ex.route, ex.msg())
			path := filepath.Join("testdata", "golden", string(ex.route)+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body differs from %s:\n got %s\nwant %s", path, got, want)
			}
			if m := marshal(t, ex.route, ex.msg()); !bytes.Equal(got, m) {
				t.Errorf("body differs from json.Marshal:\n got %s\nwant %s", got, m)
			}
		})
	}
}

// wireDoc is the assembled JSON read back generically, for checks on its
// shape.
func wireDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("assembled body is not JSON: %v\n%s", err, b)
	}
	return v
}

// get follows a dotted path through decoded JSON ("a.b.0.c").
func get(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			i := int(k[0] - '0')
			if len(k) != 1 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestWireRules(t *testing.T) {
	tests := []struct {
		name   string
		route  conneqt.RouteName
		edit   func(*conneqt.Message)
		want   map[string]any // path -> value
		absent []string
	}{
		{
			name:  "type defaults to the route's",
			route: conneqt.Instant,
			want:  map[string]any{"type": "ToolbarInstantMessage"},
		},
		{
			name:  "type given is kept",
			route: conneqt.Standard,
			edit:  func(m *conneqt.Message) { m.Type = "ToolbarMessage" },
			want:  map[string]any{"type": "ToolbarMessage"},
		},
		{
			name:   "units, never unit; value a number",
			route:  conneqt.Instant,
			want:   map[string]any{"codedDataItems.0.units": "mmHg", "codedDataItems.0.value": 140.0},
			absent: []string{"codedDataItems.0.unit", "codedDataItems.2.value", "codedDataItems.2.units"},
		},
		{
			name:   "no body.fileName; attachment fileName always",
			route:  conneqt.Instant,
			want:   map[string]any{"attachments.0.fileName": "Dispense Notification.pdf"},
			absent: []string{"body.fileName"},
		},
		{
			name:   "empty body left out",
			route:  conneqt.Instant,
			edit:   func(m *conneqt.Message) { m.Body = &conneqt.Body{} },
			absent: []string{"body"},
		},
		{
			name:   "no expiry, no codedDataItems",
			route:  conneqt.Instant,
			edit:   func(m *conneqt.Message) { m.CodedDataItems = []conneqt.CodedDataItem{} },
			absent: []string{"expiryDateTime", "codedDataItems", "gpConnectAdditionalInformation"},
		},
		{
			name:  "expiry sent as given",
			route: conneqt.Standard,
			want:  map[string]any{"expiryDateTime": "2025-07-21T17:32:28+01:00"},
		},
		{
			name:  "sdsUserId defaults to UNK",
			route: conneqt.GPConnect,
			edit: func(m *conneqt.Message) {
				m.GPConnectAdditionalInformation.Practitioner.SDSUserID = ""
			},
			want: map[string]any{"gpConnectAdditionalInformation.practitioner.sdsUserId": "UNK"},
		},
		{
			name:  "empty practitioner and organisation left out",
			route: conneqt.GPConnect,
			edit: func(m *conneqt.Message) {
				m.GPConnectAdditionalInformation.Practitioner = &conneqt.Practitioner{}
				m.GPConnectAdditionalInformation.Organisation = &conneqt.Contact{}
			},
			want:   map[string]any{"gpConnectAdditionalInformation.confidentiality": false, "gpConnectAdditionalInformation.versionNumber": 2.0},
			absent: []string{"gpConnectAdditionalInformation.practitioner", "gpConnectAdditionalInformation.organisation"},
		},
		{
			name:  "empty GP Connect information left out elsewhere",
			route: conneqt.Standard,
			edit: func(m *conneqt.Message) {
				m.GPConnectAdditionalInformation = &conneqt.GPConnectInfo{Organisation: &conneqt.Contact{}}
			},
			absent: []string{"gpConnectAdditionalInformation"},
		},
		{
			name:  "empty GP Connect information kept on GP Connect, for the service to refuse",
			route: conneqt.GPConnect,
			edit: func(m *conneqt.Message) {
				m.GPConnectAdditionalInformation = &conneqt.GPConnectInfo{}
			},
			want: map[string]any{"gpConnectAdditionalInformation.recipientType": "", "gpConnectAdditionalInformation.confidentiality": nil},
		},
	}
	byRoute := map[conneqt.RouteName]func() *conneqt.Message{}
	for _, ex := range examples {
		byRoute[ex.route] = ex.msg
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := byRoute[tc.route]()
			if tc.edit != nil {
				tc.edit(m)
			}
			before, _ := json.Marshal(m)
			_, b := body(t, tc.route, m)
			if after, _ := json.Marshal(m); !bytes.Equal(before, after) {
				t.Errorf("assembling changed the message")
			}
			if mb := marshal(t, tc.route, m); !bytes.Equal(b, mb) {
				t.Errorf("body differs from json.Marshal:\n got %s\nwant %s", b, mb)
			}
			doc := wireDoc(t, b)
			for path, want := range tc.want {
				if got, ok := get(doc, path); !ok || got != want {
					t.Errorf("%s = %v (present %v), want %v", path, got, ok, want)
				}
			}
			for _, path := range tc.absent {
				if got, ok := get(doc, path); ok {
					t.Errorf("%s is present (%v)", path, got)
				}
			}
		})
	}
}

// sample returns n deterministic pseudo-random bytes.
func sample(n int, seed uint64) []byte {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

func TestMatchesMarshal(t *testing.T) {
	tests := []struct {
		name string
		edit func(*conneqt.Message)
	}{
		{"example", func(*conneqt.Message) {}},
		{"HTML characters", func(m *conneqt.Message) {
			m.Body = &conneqt.Body{MIMEType: conneqt.MIMEHTML, Content: `<p>BP 140/80 & "rising" <b>now</b></p>`}
			m.Attachments[0].FileName = "a&b <c>.pdf"
		}},
		{"unicode, control and line separators", func(m *conneqt.Message) {
			m.Topic = "Zoë Ó'Brien\u2028\u2029\t\x01 é 😀"
			m.Attachments[0].MIMEType = "text/plain\x7f"
		}},
		{"invalid UTF-8", func(m *conneqt.Message) { m.Attachments[0].FileName = "bad\xff\xfe.pdf" }},
		{"invalid number kept as a string", func(m *conneqt.Message) {
			m.CodedDataItems = []conneqt.CodedDataItem{{Code: "407554009", Value: &conneqt.Number{Text: "high"}}}
		}},
		{"ten attachments of every size mod 3", func(m *conneqt.Message) {
			m.Attachments = nil
			for i, n := range []int{0, 1, 2, 3, 4, 5, 28, 29, 30, 1000} {
				m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: "f.bin", MIMEType: conneqt.MIMEPDF, Data: sample(n, uint64(i))})
			}
		}},
		{"bigger than the encoder's chunk", func(m *conneqt.Message) {
			m.Attachments[0].Data = sample(300_001, 9)
			m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: "g", Data: sample(98_305, 10)})
		}},
		{"no attachments", func(m *conneqt.Message) { m.Attachments = []*conneqt.Attachment{} }},
		{"nil attachments", func(m *conneqt.Message) { m.Attachments = nil }},
		{"gpdoc's own fields never sent", func(m *conneqt.Message) {
			a := m.Attachments[0]
			a.Path, a.DetectedMIME, a.Generated = "/tmp/x.pdf", "application/pdf", true
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := instantExample()
			tc.edit(m)
			_, got := body(t, conneqt.Instant, m)
			if want := marshal(t, conneqt.Instant, m); !bytes.Equal(got, want) {
				t.Errorf("streamed body differs from json.Marshal:\n got %.300s\nwant %.300s", got, want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON")
			}
		})
	}
}

// TestRoundTrip decodes each assembled message's attachments and compares
// them with the input bytes.
func TestRoundTrip(t *testing.T) {
	for i := range 20 {
		m := standardExample()
		m.Attachments = nil
		for j := range i%10 + 1 {
			n := rand.IntN(70_000)
			if j == 0 {
				n = i // 0..19 bytes: every size mod 3
			}
			m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: "x.pdf", MIMEType: conneqt.MIMEPDF, Data: sample(n, uint64(i*100+j))})
		}
		_, b := body(t, conneqt.Standard, m)
		var back conneqt.Message
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(back.Attachments) != len(m.Attachments) {
			t.Fatalf("message %d: %d attachments back, want %d", i, len(back.Attachments), len(m.Attachments))
		}
		for j, a := range back.Attachments {
			if !bytes.Equal(a.Data, m.Attachments[j].Data) || a.FileName != m.Attachments[j].FileName {
				t.Fatalf("message %d attachment %d does not round-trip", i, j)
			}
		}
	}
}

func TestReaders(t *testing.T) {
	m := instantExample()
	m.Attachments = append(m.Attachments,
		&conneqt.Attachment{FileName: "a.pdf", MIMEType: conneqt.MIMEPDF, Data: sample(200_000, 1)},
		&conneqt.Attachment{FileName: "b.pdf", MIMEType: conneqt.MIMEPDF, Data: sample(5, 2)},
		&conneqt.Attachment{FileName: "c.pdf", MIMEType: conneqt.MIMEPDF, Data: []byte{}},
	)
	p, want := body(t, conneqt.Instant, m)

	t.Run("twice, identical", func(t *testing.T) {
		for range 2 {
			got, err := io.ReadAll(p.NewReader())
			if err != nil || !bytes.Equal(got, want) || int64(len(got)) != p.Size() {
				t.Fatalf("second read differs (%v)", err)
			}
		}
	})
	t.Run("iotest", func(t *testing.T) {
		if err := iotest.TestReader(p.NewReader(), want); err != nil {
			t.Fatal(err)
		}
	})
	readers := map[string]func(io.Reader) io.Reader{
		"one byte":  iotest.OneByteReader,
		"half":      iotest.HalfReader,
		"data err":  iotest.DataErrReader,
		"3 at once": func(r io.Reader) io.Reader { return limitedReads{r, 3} },
		"7 at once": func(r io.Reader) io.Reader { return limitedReads{r, 7} },
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			got, err := io.ReadAll(wrap(p.NewReader()))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("differs (%v)", err)
			}
		})
	}
	t.Run("read then copy", func(t *testing.T) {
		for _, k := range []int{1, 2, 100, 310, 1000, 150_000} {
			r := p.NewReader()
			head := make([]byte, k)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			var rest bytes.Buffer
			if _, err := io.Copy(&rest, r); err != nil {
				t.Fatal(err)
			}
			if got := append(head, rest.Bytes()...); !bytes.Equal(got, want) {
				t.Fatalf("read %d then io.Copy: differs", k)
			}
		}
	})
	t.Run("WriteTo", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := p.WriteTo(&buf)
		if err != nil || n != p.Size() || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("WriteTo = %d, %v", n, err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				var buf bytes.Buffer
				if _, err := io.Copy(&buf, p.NewReader()); err != nil || !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("concurrent reader differs (%v)", err)
				}
			})
		}
		wg.Wait()
	})
	t.Run("zero values", func(t *testing.T) {
		var r assemble.Reader
		if n, err := r.Read(make([]byte, 4)); n != 0 || err != io.EOF {
			t.Errorf("zero Reader: %d, %v", n, err)
		}
		var p assemble.Payload
		if b, err := io.ReadAll(p.NewReader()); len(b) != 0 || err != nil || p.Size() != 0 {
			t.Errorf("zero Payload: %q, %v, size %d", b, err, p.Size())
		}
	})
}

type limitedReads struct {
	r io.Reader
	n int
}

func (l limitedReads) Read(p []byte) (int, error) { return l.r.Read(p[:min(len(p), l.n)]) }

// failingWriter fails once it has taken limit bytes.
type failingWriter struct{ limit int }

var errFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errFull
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestWriteToErrors(t *testing.T) {
	m := instantExample()
	m.Attachments[0].Data = sample(300_000, 3)
	p, err := assemble.New(conneqt.MustRoute(conneqt.Instant), m)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 10, 200, 200_000, int(p.Size()) - 3} {
		n, err := p.WriteTo(&failingWriter{limit: limit})
		if !errors.Is(err, errFull) || n != int64(limit) {
			t.Errorf("limit %d: WriteTo = %d, %v", limit, n, err)
		}
	}
}

func TestNoContent(t *testing.T) {
	m := standardExample()
	m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: "later.pdf", Path: "/nowhere"}, nil)
	_, err := assemble.New(conneqt.MustRoute(conneqt.Standard), m)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 ||
		ve.Problems[0].Name != "attachments[1].content" || ve.Problems[1].Name != "attachments[2]" {
		t.Fatalf("New = %v", err)
	}
	if _, err := assemble.New(nil, m); err == nil {
		t.Error("New without a route succeeded")
	}
}

func TestStage(t *testing.T) {
	s := assemble.NewStage()
	if s.Name() != "encode+assemble" {
		t.Errorf("Name = %q", s.Name())
	}
	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.GPConnect), Message: gpconnectExample()}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{s}}
	if err := r.Process(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "golden", "gpconnect.json"))
	got, err := io.ReadAll(doc.Payload.NewReader())
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("doc.Payload differs from the golden file (%v)", err)
	}

	bad := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Standard), Message: standardExample()}
	bad.Message.Attachments[0].Data = nil
	if err := r.Process(context.Background(), bad); !errors.Is(err, conneqt.ErrInvalid) || bad.Payload != nil {
		t.Errorf("no content: %v, payload %v", err, bad.Payload)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ProcessMessage(ctx, doc); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	doc := &pipeline.Document{Route: conneqt.MustRoute(conneqt.Instant), Message: instantExample()}
	if err := assemble.NewStage().ProcessMessage(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	path, err := assemble.WriteDir(dir, doc)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "869c3439-fcb8-4546-b372-2af2bf54e197.json") {
		t.Errorf("path = %s", path)
	}
	got, _ := os.ReadFile(path)
	want, _ := os.ReadFile(filepath.Join("testdata", "golden", "instant.json"))
	if !bytes.Equal(got, want) {
		t.Errorf("file differs from the golden file")
	}
	// Again: replaced in place, no temporary files left.
	if _, err := assemble.WriteDir(dir, doc); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}

	for _, id := range []string{"", "../escape", "a/b", `a\b`, ".hidden", "a b", "x\x00"} {
		doc.Message.MessageID = id
		if _, err := assemble.WriteDir(dir, doc); !errors.Is(err, assemble.ErrBadFileName) {
			t.Errorf("messageId %q: %v", id, err)
		}
	}
	if _, err := assemble.WriteDir(dir, &pipeline.Document{Message: instantExample()}); err == nil {
		t.Error("no payload: no error")
	}
	if err := assemble.WriteFile(filepath.Join(dir, "missing", "x.json"), doc.Payload); err == nil {
		t.Error("missing directory: no error")
	}
}

// short payload claims more bytes than it has.
type shortPayload struct{}

func (shortPayload) Size() int64          { return 10 }
func (shortPayload) NewReader() io.Reader { return strings.NewReader("{}") }

func TestWriteFileChecksSize(t *testing.T) {
	dir := t.TempDir()
	if err := assemble.WriteFile(filepath.Join(dir, "x.json"), shortPayload{}); err == nil {
		t.Error("size mismatch not reported")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files behind", len(entries))
	}
}

// FuzzMatchesMarshal checks the streamed body against json.Marshal for
// arbitrary strings and attachment bytes.
func FuzzMatchesMarshal(f *testing.F) {
	f.Add("Health", "document.pdf", "application/pdf", "<b>&</b>", []byte("base64encodedstring"), uint8(1))
	f.Add("", "", "", "", []byte{}, uint8(0))
	f.Add("\u2028", "\xff", "a\"b", "\\", []byte{0, 1}, uint8(3))
	f.Fuzz(func(t *testing.T, topic, fileName, mime, content string, data []byte, copies uint8) {
		m := instantExample()
		m.Topic = topic
		m.Body = &conneqt.Body{MIMEType: conneqt.MIMEHTML, Content: content}
		m.Attachments = nil
		for i := range int(copies%4) + 1 {
			m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: fileName, MIMEType: mime, Data: data[:len(data)*i/4]})
		}
		_, got := body(t, conneqt.Instant, m)
		if want := marshal(t, conneqt.Instant, m); !bytes.Equal(got, want) {
			t.Fatalf("streamed body differs from json.Marshal:\n got %q\nwant %q", got, want)
		}
	})
}

// TestPayloadDigest: the digest identifies the body: the same message
// gives the same digest, any change to an attachment's bytes or to the
// envelope a different one, and it agrees with the attachment digests.
func TestPayloadDigest(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Standard)
	msg := func(content, topic string) *conneqt.Message {
		m := conneqttest.SampleMessage(conneqt.Standard)
		m.MessageID = "3c2475dc-ae9e-5284-b145-ae9ba5d76136"
		m.Topic = topic
		m.Attachments[0].Data = []byte(content)
		return m
	}
	digest := func(m *conneqt.Message) [32]byte {
		p, err := assemble.New(route, m)
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest()
	}
	base := digest(msg("letter body", "Health"))
	if digest(msg("letter body", "Health")) != base {
		t.Fatal("the same message gave another digest")
	}
	for name, m := range map[string]*conneqt.Message{
		"attachment byte": msg("letter bodY", "Health"),
		"attachment size": msg("letter body ", "Health"),
		"envelope":        msg("letter body", "TestResults"),
	} {
		if digest(m) == base {
			t.Errorf("%s changed, the digest did not", name)
		}
	}
	p, _ := assemble.New(route, msg("letter body", "Health"))
	if got, want := p.AttachmentDigests()[0], sha256.Sum256([]byte("letter body")); got != want {
		t.Errorf("attachment digest %x, want %x", got, want)
	}
}
