package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"
)

// The cri-streaming package serves websocket exec only up to v4; v5 (stream close signal)
// is what @kubernetes/client-node and kubectl ≥1.30 negotiate, so the websocket side is
// served here with wsstream directly, v5 included.

const (
	v5Protocol = "v5.channel.k8s.io"
	v4Protocol = "v4.channel.k8s.io"
)

func isWebSocket(r *http.Request) bool {
	return wsstream.IsWebSocketRequest(r)
}

func serveWebSocketExec(w http.ResponseWriter, r *http.Request, ex *executor, name, ctr string, cmd []string, opts *remotecommand.Options) {
	rd := func(b bool) wsstream.ChannelType {
		if b {
			return wsstream.ReadChannel
		}
		return wsstream.IgnoreChannel
	}
	wr := func(b bool) wsstream.ChannelType {
		if b {
			return wsstream.WriteChannel
		}
		return wsstream.IgnoreChannel
	}
	chans := []wsstream.ChannelType{rd(opts.Stdin), wr(opts.Stdout), wr(opts.Stderr), wsstream.WriteChannel, rd(opts.TTY)}
	cfg := func(binary bool) wsstream.ChannelProtocolConfig {
		return wsstream.ChannelProtocolConfig{Binary: binary, Channels: chans}
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		"":                                      cfg(true),
		wsstream.ChannelWebSocketProtocol:       cfg(true),
		wsstream.Base64ChannelWebSocketProtocol: cfg(false),
		v4Protocol:                              cfg(true),
		"v4." + wsstream.Base64ChannelWebSocketProtocol: cfg(false),
		v5Protocol: cfg(true),
	})
	proto, streams, err := conn.Open(w, r)
	if err != nil {
		logf("websocket exec: %v", err)
		return
	}
	defer conn.Close()
	// An empty frame on the first writable channel tells the client the session is up.
	switch {
	case opts.Stdout:
		streams[1].Write([]byte{})
	case opts.Stderr:
		streams[2].Write([]byte{})
	default:
		streams[3].Write([]byte{})
	}
	var in io.Reader
	var out, errw io.WriteCloser
	if opts.Stdin {
		in = streams[0]
	}
	if opts.Stdout {
		out = streams[1]
	}
	if opts.Stderr {
		errw = streams[2]
	}
	runErr := ex.ExecInContainer(r.Context(), name, "", ctr, cmd, in, out, errw, opts.TTY, nil, 0)
	writeWSStatus(streams[3], proto, runErr)
}

// writeWSStatus reports the result on the error channel: v4+ a metav1.Status JSON (with the
// exit code as a cause, like the kubelet), older protocols the plain error text.
func writeWSStatus(ch io.Writer, proto string, err error) {
	if !strings.HasPrefix(proto, "v4.") && !strings.HasPrefix(proto, "v5.") {
		if err != nil {
			ch.Write([]byte(err.Error()))
		}
		return
	}
	st := metav1.Status{Status: metav1.StatusSuccess}
	if err != nil {
		if ee, ok := err.(utilexec.ExitError); ok && ee.Exited() {
			st = metav1.Status{
				Status:  metav1.StatusFailure,
				Reason:  remotecommand.NonZeroExitCodeReason,
				Message: fmt.Sprintf("command terminated with non-zero exit code: %v", ee),
				Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
					Type: remotecommand.ExitCodeCauseType, Message: fmt.Sprintf("%d", ee.ExitStatus())}}},
			}
		} else {
			st = metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError,
				Message: fmt.Sprintf("error executing command in container: %v", err)}
		}
	}
	b, _ := json.Marshal(st)
	ch.Write(b)
}
