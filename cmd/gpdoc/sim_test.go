package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

func TestSimCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRoot()
	root.SetArgs([]string{"sim", "--addr", "127.0.0.1:0", "--api-key", "test-key", "--access-token", "tok"})
	root.SetOut(pw)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()

	sc := bufio.NewScanner(pr)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "conneQt simulator listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatalf("no URL printed (%v)", <-done)
	}
	var rest strings.Builder
	go func() { _, _ = io.Copy(&rest, pr) }()

	c, err := transport.New(transport.Options{BaseURL: url, APIKey: "test-key", AccessToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	m := conneqttest.SampleMessage(conneqt.Instant)
	res, err := c.Send(ctx, conneqt.MustRoute(conneqt.Instant), m.MessageID, transport.BytesPayload(conneqttest.Marshal(m)))
	if err != nil || !strings.HasPrefix(res.StatusEndpoint, url+"/api/v1/messages/") {
		t.Fatalf("send: %+v %v", res, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sim did not stop on cancellation")
	}
}

func TestSimCommandRefusesRemoteAddress(t *testing.T) {
	root := newRoot()
	root.SetArgs([]string{"sim", "--addr", "0.0.0.0:0"})
	root.SetOut(io.Discard)
	err := root.ExecuteContext(context.Background())
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("err %v", err)
	}
}
