package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// container-init is the per-container shim (the role containerd-shim plays). The agent
// re-executes itself with a spec file; the shim
//   - unshares a private mount namespace (so the bind mounts die with the container and never
//     show up in the host's mount table) and joins the pod's (or node's) netns,
//   - bind-mounts each volume onto its mountPath,
//   - starts the command in its own process group, writes CRI-format logs with timestamps,
//   - writes the exit status to a file the agent reads.
// It runs in its own session, so neither the agent's exit nor its signals reach containers
// (a kubelet restart does not kill pods); `cleanup` finds them through the pid files.
// All namespace work happens on one locked OS thread, from which the child is forked.

type mountSpec struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

type initSpec struct {
	Netns      string      `json:"netns"` // path, e.g. /run/netns/rc-pod-1234abcd
	Hostname   string      `json:"hostname,omitempty"`
	Mounts     []mountSpec `json:"mounts"`
	WorkingDir string      `json:"workingDir,omitempty"`
	Argv       []string    `json:"argv"`
	Env        []string    `json:"env"`
	LogPath    string      `json:"logPath"`
	PidPath    string      `json:"pidPath"`
	ExitPath   string      `json:"exitPath"`
}

type exitInfo struct {
	ExitCode   int       `json:"exitCode"`
	Signal     int       `json:"signal,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func cmdContainerInit(args []string) error {
	runtime.LockOSThread() // never unlocked: this thread carries the container's namespaces
	// Catch stop signals first thing: the agent signals the shim itself while the container's pid
	// is not recorded yet (a pod deleted right after its start), and Go's default action for an
	// uncaught SIGTERM would kill the shim before it wrote an exit status ("container shim exited
	// without a status", exit 128) while the container process kept running.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if len(args) != 1 {
		return fmt.Errorf("usage: nodeagent container-init SPEC.json")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var spec initSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	started := time.Now()
	fail := func(reason string, err error) error {
		writeJSONAtomic(spec.ExitPath, exitInfo{ExitCode: 128, Reason: reason, Message: err.Error(),
			StartedAt: started, FinishedAt: time.Now()})
		return err
	}
	if err := enterNamespaces(&spec); err != nil {
		return fail("StartError", err)
	}

	logf, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fail("StartError", err)
	}
	lw := &criWriter{f: logf}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail("StartError", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail("StartError", err)
	}
	devnull, _ := os.Open(os.DevNull)
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = spec.Env
	cmd.Dir = spec.WorkingDir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if lp, err := lookPathIn(spec.Argv[0], spec.Env); err == nil {
		cmd.Path = lp
		cmd.Err = nil
	}
	if err := cmd.Start(); err != nil {
		lw.line("stderr", []byte(err.Error()), false)
		return fail("StartError", fmt.Errorf("failed to start container process: %w", err))
	}
	started = time.Now()
	outW.Close()
	errW.Close()
	pid := cmd.Process.Pid
	os.WriteFile(spec.PidPath, []byte(fmt.Sprintf("%d %d\n", pid, procStartTime(pid))), 0o644)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); lw.pump(outR, "stdout") }()
	go func() { defer wg.Done(); lw.pump(errR, "stderr") }()

	// Forward SIGTERM/SIGINT to the container's group. The agent signals the group directly once
	// the pid file exists; before that it signals the shim, and a TERM caught during setup
	// (buffered in sigs since the start of this function) is delivered now.
	go func() {
		for s := range sigs {
			syscall.Kill(-pid, s.(syscall.Signal))
		}
	}()

	_ = cmd.Wait()
	finished := time.Now()
	// Like a runtime tearing down the container's cgroup: nothing of the container outlives
	// its main process.
	syscall.Kill(-pid, syscall.SIGKILL)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	info := exitInfo{StartedAt: started, FinishedAt: finished}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Signaled():
			info.Signal = int(ws.Signal())
			info.ExitCode = 128 + int(ws.Signal())
		default:
			info.ExitCode = ws.ExitStatus()
		}
	}
	logf.Sync()
	return writeJSONAtomic(spec.ExitPath, info)
}

// lookPathIn resolves a bare command name with the container's PATH, not the agent's.
func lookPathIn(name string, env []string) (string, error) {
	if filepath.IsAbs(name) || filepath.Base(name) != name {
		return name, nil
	}
	path := ""
	for _, e := range env {
		if len(e) > 5 && e[:5] == "PATH=" {
			path = e[5:]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable file %q not found in $PATH", name)
}

func enterNamespaces(spec *initSpec) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare mount ns: %w", err)
	}
	// Our mounts must not propagate back to the host.
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	// A private UTS namespace so `hostname` says the pod's (or, hostNetwork, the node's) name.
	if spec.Hostname != "" {
		if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
			return fmt.Errorf("unshare uts ns: %w", err)
		}
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	if spec.Netns != "" {
		f, err := os.Open(spec.Netns)
		if err != nil {
			return err
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			return fmt.Errorf("setns %s: %w", spec.Netns, err)
		}
	}
	for _, m := range spec.Mounts {
		if err := unix.Mount(m.Source, m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", m.Source, m.Target, err)
		}
		if m.ReadOnly {
			if err := unix.Mount("", m.Target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("remount %s read-only: %w", m.Target, err)
			}
		}
	}
	return nil
}

// procStartTime is field 22 of /proc/<pid>/stat: with the pid it identifies a process
// across pid reuse, so `cleanup` never kills a stranger.
func procStartTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces: fields start after the last ')'.
	s := string(b)
	i := lastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	var f [20]string
	n, _ := fmt.Sscan(s[i+1:], &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
		&f[10], &f[11], &f[12], &f[13], &f[14], &f[15], &f[16], &f[17], &f[18], &f[19])
	if n < 20 {
		return 0
	}
	var v uint64
	fmt.Sscan(f[19], &v)
	return v
}

func lastIndexByte(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}
