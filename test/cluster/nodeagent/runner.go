package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
)

// ctrState is the agent's view of one container of a pod (init or regular).
type ctrState struct {
	spec     v1.Container
	init     bool
	dir      string // <pod dir>/containers/<name>
	restarts int32
	env      []string

	running    bool
	started    bool // ever started
	startedAt  time.Time
	pid        int
	shim       *exec.Cmd
	last       *exitInfo // last finished instance
	lastMsg    string
	prevExit   *exitInfo // instance before last (lastState)
	prevMsg    string
	nextStart  time.Time // restart backoff
	waitReason string
	waitMsg    string
}

func (c *ctrState) logPath(restart int32) string {
	return filepath.Join(c.dir, fmt.Sprintf("%d.log", restart))
}
func (c *ctrState) exitPath(restart int32) string {
	return filepath.Join(c.dir, fmt.Sprintf("%d.exit", restart))
}
func (c *ctrState) termLogPath() string { return filepath.Join(c.dir, "termination-log") }
func (c *ctrState) pidPath() string     { return filepath.Join(c.dir, "pid") }

type ctrExit struct {
	name    string
	restart int32
	info    exitInfo
}

// startContainer launches the container-init shim for the container's next instance.
func (w *podWorker) startContainer(c *ctrState, vols volumeSet, argv []string) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	restart := c.restarts
	os.Remove(c.exitPath(restart))
	// A fresh termination-log for each instance, as the kubelet does.
	if err := os.WriteFile(c.termLogPath(), nil, 0o666); err != nil {
		return err
	}
	mounts, err := w.containerMounts(c, vols)
	if err != nil {
		return err
	}
	netns := "/run/netns/" + w.a.net.ns
	if !w.hostNetwork() {
		netns = "/run/netns/" + podNetnsName(string(w.uid))
	}
	hostname := w.snapshot().Name
	if w.hostNetwork() {
		hostname = w.a.nodeName
	} else if h := w.snapshot().Spec.Hostname; h != "" {
		hostname = h
	}
	if len(hostname) > 63 {
		hostname = hostname[:63]
	}
	spec := initSpec{
		Hostname:   hostname,
		Netns:      netns,
		Mounts:     mounts,
		WorkingDir: c.spec.WorkingDir,
		Argv:       argv,
		Env:        c.env,
		LogPath:    c.logPath(restart),
		PidPath:    c.pidPath(),
		ExitPath:   c.exitPath(restart),
	}
	specPath := filepath.Join(c.dir, "spec.json")
	if err := writeJSONAtomic(specPath, spec); err != nil {
		return err
	}
	shimLog, err := os.OpenFile(filepath.Join(c.dir, "shim.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer shimLog.Close()
	cmd := exec.Command(w.a.self, "container-init", specPath)
	cmd.Stdout, cmd.Stderr = shimLog, shimLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	os.WriteFile(filepath.Join(c.dir, "shim.pid"), []byte(fmt.Sprintf("%d %d\n", cmd.Process.Pid, procStartTime(cmd.Process.Pid))), 0o644)
	c.shim = cmd
	c.running = true
	c.started = true
	c.startedAt = time.Now()
	c.pid = 0
	c.waitReason, c.waitMsg = "", ""
	name := c.spec.Name
	go func() {
		cmd.Wait()
		info := exitInfo{ExitCode: 128, Reason: "Error", Message: "container shim exited without a status", FinishedAt: time.Now()}
		if b, err := os.ReadFile(spec.ExitPath); err == nil {
			var ei exitInfo
			if json.Unmarshal(b, &ei) == nil {
				info = ei
			}
		}
		w.report(ctrExit{name: name, restart: restart, info: info})
	}()
	return nil
}

// containerPid reads the pid the shim recorded (0 if not (yet) known).
func (c *ctrState) containerPid() int {
	if c.pid > 0 {
		return c.pid
	}
	b, err := os.ReadFile(c.pidPath())
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	c.pid = pid
	return pid
}

// signal sends sig to the container's process group (and the shim, for SIGKILL).
func (c *ctrState) signal(sig syscall.Signal) {
	if !c.running {
		return
	}
	if pid := c.containerPid(); pid > 0 {
		syscall.Kill(-pid, sig)
	} else if c.shim != nil && c.shim.Process != nil {
		// Not started yet: the shim forwards TERM; KILL takes it down directly.
		c.shim.Process.Signal(sig)
	}
	if sig == syscall.SIGKILL && c.shim != nil && c.shim.Process != nil {
		// Give the shim a moment to record the exit before it is killed too.
		go func(p *os.Process) { time.Sleep(3 * time.Second); p.Kill() }(c.shim.Process)
	}
}

// containerMounts turns volumeMounts (plus the termination log) into bind mounts and makes
// sure every target exists on the host.
func (w *podWorker) containerMounts(c *ctrState, vols volumeSet) ([]mountSpec, error) {
	var mounts []mountSpec
	targets := map[string]bool{}
	for _, vm := range c.spec.VolumeMounts {
		src, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q: no such volume", vm.Name)
		}
		if vm.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+vm.SubPath))
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, err
				}
			}
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		target := filepath.Clean("/" + vm.MountPath)
		targets[target] = !fi.IsDir()
		mounts = append(mounts, mountSpec{Source: src, Target: target, ReadOnly: vm.ReadOnly})
	}
	tmp := c.spec.TerminationMessagePath
	if tmp == "" {
		tmp = v1.TerminationMessagePathDefault
	}
	tmp = filepath.Clean("/" + tmp)
	targets[tmp] = true
	mounts = append(mounts, mountSpec{Source: c.termLogPath(), Target: tmp})
	if err := w.a.mps.ensure(w.dir, targets); err != nil {
		return nil, fmt.Errorf("mountpoints: %w", err)
	}
	return mounts, nil
}

// terminationMessage follows the kubelet: the file's content (max 4096 bytes), or with
// FallbackToLogsOnError and a failure and an empty file, the log tail.
func (c *ctrState) terminationMessage(restart int32, exitCode int) string {
	b, _ := os.ReadFile(c.termLogPath())
	if len(b) > 4096 {
		b = b[:4096]
	}
	if len(b) == 0 && exitCode != 0 && c.spec.TerminationMessagePolicy == v1.TerminationMessageFallbackToLogsOnError {
		return tailForMessage(c.logPath(restart))
	}
	return string(b)
}
