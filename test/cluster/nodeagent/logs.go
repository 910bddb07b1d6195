package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// Container logs are stored in the CRI format the kubelet reads:
//   <RFC3339Nano> <stdout|stderr> <F|P> <content>
// P marks a partial line (longer than the read buffer), F a full one.

type criWriter struct {
	mu sync.Mutex
	f  *os.File
}

func (w *criWriter) line(stream string, content []byte, partial bool) {
	tag := "F"
	if partial {
		tag = "P"
	}
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(tag)
	b.WriteByte(' ')
	b.Write(content)
	b.WriteByte('\n')
	w.mu.Lock()
	w.f.Write(b.Bytes())
	w.mu.Unlock()
}

func (w *criWriter) pump(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, 16*1024)
	for {
		l, err := br.ReadSlice('\n')
		if len(l) > 0 {
			if l[len(l)-1] == '\n' {
				w.line(stream, l[:len(l)-1], false)
			} else if err == bufio.ErrBufferFull {
				w.line(stream, l, true)
			} else { // last line without newline at EOF
				w.line(stream, l, false)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

type logLine struct {
	ts      time.Time
	stream  string
	partial bool
	content []byte
}

func parseCRILine(l []byte) (logLine, bool) {
	l = bytes.TrimSuffix(l, []byte("\n"))
	parts := bytes.SplitN(l, []byte(" "), 4)
	if len(parts) < 3 {
		return logLine{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return logLine{}, false
	}
	ll := logLine{ts: ts, stream: string(parts[1]), partial: string(parts[2]) == "P"}
	if len(parts) == 4 {
		ll.content = parts[3]
	}
	return ll, true
}

// logOptions mirror the kubelet's /containerLogs query parameters.
type logOptions struct {
	follow     bool
	timestamps bool
	tailLines  int64 // -1: all
	since      time.Time
	limitBytes int64 // 0: unlimited
}

// render formats one record as a kubelet does: content plus newline unless partial.
func (l logLine) render(ts bool) []byte {
	var b bytes.Buffer
	if ts {
		b.WriteString(l.ts.Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.Write(l.content)
	if !l.partial {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// readLogLines reads all records of a log file (used for tail and termination messages).
func readLogLines(path string) []logLine {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []logLine
	br := bufio.NewReaderSize(f, 64*1024)
	for {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 && l[len(l)-1] == '\n' {
			if ll, ok := parseCRILine(l); ok {
				out = append(out, ll)
			}
		}
		if err != nil {
			return out
		}
	}
}

// tailForMessage returns the last lines of a container's log, bounded like the kubelet's
// FallbackToLogsOnError (80 lines, 2048 bytes).
func tailForMessage(path string) string {
	lines := readLogLines(path)
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l.render(false))
	}
	s := b.Bytes()
	if len(s) > 2048 {
		s = s[len(s)-2048:]
	}
	return string(s)
}

type flushWriter interface {
	io.Writer
	Flush()
}

// streamLogs writes a container instance's log to w; with follow it keeps reading until
// stopped() says the instance has exited and the file is drained, or ctxDone fires.
func streamLogs(path string, opt logOptions, w flushWriter, stopped func() bool, ctxDone <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var written int64
	emit := func(l logLine) bool {
		if !opt.since.IsZero() && l.ts.Before(opt.since) {
			return true
		}
		b := l.render(opt.timestamps)
		if opt.limitBytes > 0 {
			if written >= opt.limitBytes {
				return false
			}
			if written+int64(len(b)) > opt.limitBytes {
				b = b[:opt.limitBytes-written]
			}
		}
		n, err := w.Write(b)
		written += int64(n)
		return err == nil
	}
	br := bufio.NewReaderSize(f, 64*1024)
	// Tail: read everything present now, keep the last N records.
	if opt.tailLines >= 0 {
		var ring []logLine
		for {
			l, err := br.ReadBytes('\n')
			if len(l) > 0 && l[len(l)-1] == '\n' {
				if ll, ok := parseCRILine(l); ok {
					ring = append(ring, ll)
					if int64(len(ring)) > opt.tailLines {
						ring = ring[1:]
					}
				}
			} else if len(l) > 0 {
				// Incomplete record at the end: re-read it later.
				f.Seek(-int64(len(l)), io.SeekCurrent)
				br.Reset(f)
			}
			if err != nil {
				break
			}
		}
		for _, ll := range ring {
			if !emit(ll) {
				return nil
			}
		}
		w.Flush()
	}
	var pending []byte
	for {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 {
			pending = append(pending, l...)
			if pending[len(pending)-1] == '\n' {
				if ll, ok := parseCRILine(pending); ok {
					if !emit(ll) {
						return nil
					}
				}
				pending = pending[:0]
			}
		}
		if err == nil {
			continue
		}
		w.Flush()
		if !opt.follow {
			return nil
		}
		// At EOF: finish once the container is gone and nothing more arrives.
		if stopped() {
			time.Sleep(200 * time.Millisecond)
			if more, _ := br.Peek(1); len(more) == 0 {
				return nil
			}
			continue
		}
		select {
		case <-ctxDone:
			return nil
		case <-time.After(150 * time.Millisecond):
		}
	}
}
