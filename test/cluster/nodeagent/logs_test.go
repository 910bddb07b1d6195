package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type bufFlush struct{ bytes.Buffer }

func (b *bufFlush) Flush() {}

func TestLogsRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := &criWriter{f: f}
	long := strings.Repeat("x", 20000)
	w.pump(strings.NewReader("a\nb\n"+long+"\nlast-no-newline"), "stdout")
	f.Close()

	var all bufFlush
	if err := streamLogs(p, logOptions{tailLines: -1}, &all, func() bool { return true }, nil); err != nil {
		t.Fatal(err)
	}
	if want := "a\nb\n" + long + "\nlast-no-newline\n"; all.String() != want {
		t.Errorf("full log mismatch: got %d bytes, want %d", all.Len(), len(want))
	}
	var tail bufFlush
	streamLogs(p, logOptions{tailLines: 1}, &tail, func() bool { return true }, nil)
	if tail.String() != "last-no-newline\n" {
		t.Errorf("tail = %q", tail.String())
	}
	var ts bufFlush
	streamLogs(p, logOptions{tailLines: 1, timestamps: true}, &ts, func() bool { return true }, nil)
	if !strings.HasSuffix(ts.String(), "Z last-no-newline\n") {
		t.Errorf("timestamps = %q", ts.String())
	}
	if msg := tailForMessage(p); !strings.HasSuffix(msg, "last-no-newline\n") || len(msg) > 2048 {
		t.Errorf("tailForMessage: %d bytes", len(msg))
	}
}

func TestComputePhase(t *testing.T) {
	w := &podWorker{ctrs: []*ctrState{{}, {}}}
	if got := w.computePhase("Never"); got != "Pending" {
		t.Errorf("no starts: %s", got)
	}
	w.ctrs[0].running = true
	w.ctrs[1].last = &exitInfo{ExitCode: 0}
	if got := w.computePhase("Never"); got != "Running" {
		t.Errorf("one running: %s", got)
	}
	w.ctrs[0].running = false
	w.ctrs[0].last = &exitInfo{ExitCode: 1}
	if got := w.computePhase("Never"); got != "Failed" {
		t.Errorf("one failed, Never: %s", got)
	}
	if got := w.computePhase("OnFailure"); got != "Running" {
		t.Errorf("one failed, OnFailure: %s", got)
	}
	w.ctrs[0].last = &exitInfo{ExitCode: 0}
	if got := w.computePhase("OnFailure"); got != "Succeeded" {
		t.Errorf("all ok: %s", got)
	}
}
