package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// The kubelet API subset the apiserver proxies to: logs, exec, healthz, pods. Any client
// certificate (or none) is accepted: this is a throwaway test cluster.

// ctrInfo is what the API may read about a container; the pod worker publishes it.
type ctrInfo struct {
	dir        string
	restarts   int32
	running    bool
	env        []string
	workingDir string
	logPath    func(int32) string
}

func (w *podWorker) publish() {
	m := map[string]ctrInfo{}
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		m[c.spec.Name] = ctrInfo{dir: c.dir, restarts: c.restarts, running: c.running, env: c.env,
			workingDir: c.spec.WorkingDir, logPath: c.logPath}
	}
	w.mu.Lock()
	w.published = m
	w.mu.Unlock()
}

func (w *podWorker) info(name string) (ctrInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if name == "" && len(w.pod.Spec.Containers) == 1 {
		name = w.pod.Spec.Containers[0].Name
	}
	ci, ok := w.published[name]
	return ci, ok
}

func startKubeletAPI(a *agent, authority *ca, netns string, nodeIP net.IP) (*http.Server, error) {
	certPEM, keyPEM, err := authority.servingCert(a.nodeName, nodeIP)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	l, err := listenInNetns(netns, net.JoinHostPort(nodeIP.String(), "10250"))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/pods", a.servePods)
	mux.HandleFunc("/containerLogs/", a.serveLogs)
	mux.HandleFunc("/exec/", a.serveExec)
	srv := &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert},
		// HTTP/1.1 only: SPDY and websocket upgrades need a hijackable connection.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("kubelet API: %v", err)
		}
	}()
	return srv, nil
}

func (a *agent) servePods(w http.ResponseWriter, r *http.Request) {
	list := v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	a.mu.Lock()
	for _, pw := range a.workers {
		list.Items = append(list.Items, *pw.snapshot())
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

// pathParts splits /<verb>/{ns}/{pod}/[{uid}/]{container}.
func pathParts(p, verb string) (ns, pod, container string, ok bool) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(p, "/"+verb+"/"), "/"), "/")
	switch len(parts) {
	case 3:
		return parts[0], parts[1], parts[2], true
	case 4:
		return parts[0], parts[1], parts[3], true
	}
	return "", "", "", false
}

type httpFlushWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (h httpFlushWriter) Write(b []byte) (int, error) { return h.w.Write(b) }
func (h httpFlushWriter) Flush() {
	if h.f != nil {
		h.f.Flush()
	}
}

func (a *agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, podName, ctr, ok := pathParts(r.URL.Path, "containerLogs")
	if !ok {
		http.Error(w, "expected /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	pw := a.findWorker(ns, podName)
	if pw == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", ns, podName), http.StatusNotFound)
		return
	}
	ci, ok := pw.info(ctr)
	if !ok {
		http.Error(w, fmt.Sprintf("container %q not found in pod %s/%s", ctr, ns, podName), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	opt := logOptions{tailLines: -1}
	opt.follow = q.Get("follow") == "true" || q.Get("follow") == "1"
	opt.timestamps = q.Get("timestamps") == "true" || q.Get("timestamps") == "1"
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad tailLines", http.StatusBadRequest)
			return
		}
		opt.tailLines = n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "bad sinceSeconds", http.StatusBadRequest)
			return
		}
		opt.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "bad sinceTime", http.StatusBadRequest)
			return
		}
		opt.since = t
	}
	if v := q.Get("limitBytes"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		opt.limitBytes = n
	}
	restart := ci.restarts
	if q.Get("previous") == "true" {
		if restart == 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", ctr, podName), http.StatusBadRequest)
			return
		}
		restart--
		opt.follow = false
	}
	path := ci.logPath(restart)
	if _, err := os.Stat(path); err != nil {
		if opt.follow {
			// Not started yet: wait a little for the first log file, as the container starts.
			for i := 0; i < 50; i++ {
				time.Sleep(100 * time.Millisecond)
				if _, err = os.Stat(path); err == nil {
					break
				}
			}
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start", ctr, podName), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	stopped := func() bool {
		cur, ok := pw.info(ctr)
		return !ok || !cur.running || cur.restarts != restart || pw.isGone()
	}
	streamLogs(path, opt, httpFlushWriter{w, f}, stopped, r.Context().Done())
}

// executor runs exec commands inside a container's namespaces with nsenter.
type executor struct {
	a *agent
}

func (e *executor) ExecInContainer(ctx context.Context, name string, uid string, container string, cmd []string,
	in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	ns, podName, _ := strings.Cut(name, "/")
	pw := e.a.findWorker(ns, podName)
	if pw == nil {
		return fmt.Errorf("pod %s not found", name)
	}
	ci, ok := pw.info(container)
	if !ok {
		return fmt.Errorf("container %q not found in pod %s", container, name)
	}
	if !ci.running {
		return fmt.Errorf("container %q in pod %s is not running", container, name)
	}
	// The pod turns Running when the shim starts; the shim records the container's pid only after
	// it has set up mounts and namespaces. An exec that arrives in that gap waits for the pid
	// (bounded), as a real kubelet's exec would find the process already there.
	c := &ctrState{dir: ci.dir}
	pid := c.containerPid()
	for deadline := time.Now().Add(10 * time.Second); pid <= 0 && time.Now().Before(deadline); pid = c.containerPid() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if pid <= 0 {
		return fmt.Errorf("container %q in pod %s has no process after 10 s", container, name)
	}
	if resize != nil {
		go func() {
			for range resize {
			}
		}()
	}
	wd := ci.workingDir
	if wd == "" {
		wd = "/"
	}
	args := append([]string{"--target", strconv.Itoa(pid), "--mount", "--net", "--uts", "--wd=" + wd, "--"}, cmd...)
	x := exec.CommandContext(ctx, "nsenter", args...)
	x.Env = ci.env
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	x.Cancel = func() error { return syscall.Kill(-x.Process.Pid, syscall.SIGKILL) }
	if out != nil {
		x.Stdout = out
	}
	if errw != nil {
		x.Stderr = errw
	} else if tty && out != nil {
		x.Stderr = out
	}
	// Stdin through an os.Pipe: Wait must not block on a client that never closes stdin.
	var pw2 *os.File
	if in != nil {
		pr, w2, err := os.Pipe()
		if err != nil {
			return err
		}
		x.Stdin = pr
		pw2 = w2
		defer pr.Close()
		go func() {
			io.Copy(w2, in)
			w2.Close()
		}()
	}
	if err := x.Start(); err != nil {
		if pw2 != nil {
			pw2.Close()
		}
		return err
	}
	err := x.Wait()
	if pw2 != nil {
		pw2.Close()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return utilexec.CodeExitError{Err: err, Code: code}
	}
	return err
}

func (a *agent) serveExec(w http.ResponseWriter, r *http.Request) {
	ns, podName, ctr, ok := pathParts(r.URL.Path, "exec")
	if !ok {
		http.Error(w, "expected /exec/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		http.Error(w, "missing command", http.StatusBadRequest)
		return
	}
	ex := &executor{a: a}
	name := ns + "/" + podName
	if isWebSocket(r) {
		serveWebSocketExec(w, r, ex, name, ctr, cmd, opts)
		return
	}
	remotecommand.ServeExec(w, r, ex, name, "", ctr, cmd, opts, 4*time.Hour, 30*time.Second,
		[]string{remotecommand.StreamProtocolV4Name, remotecommand.StreamProtocolV3Name,
			remotecommand.StreamProtocolV2Name, remotecommand.StreamProtocolV1Name})
}
