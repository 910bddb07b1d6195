package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
)

// adopt picks up a pod that a previous agent process on this node was running (an agent
// restart must not kill or duplicate containers, as with a kubelet restart): live shims are
// watched through their pid files, finished containers are taken from the pod's status.
func (w *podWorker) adopt(pod *v1.Pod) {
	if _, err := os.Stat(w.dir); err != nil {
		return // never ran here
	}
	statuses := map[string]v1.ContainerStatus{}
	for _, s := range append(append([]v1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		statuses[s.Name] = s
	}
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		s, ok := statuses[c.spec.Name]
		if ok {
			c.restarts = s.RestartCount
		}
		pid := livePid(filepath.Join(c.dir, "shim.pid"))
		if pid > 0 {
			c.running, c.started = true, true
			c.startedAt = time.Now()
			if ok && s.State.Running != nil {
				c.startedAt = s.State.Running.StartedAt.Time
			}
			go w.watchAdopted(c.spec.Name, c.restarts, pid, c.exitPath(c.restarts))
			logf("adopted %s/%s container %s (shim %d)", pod.Namespace, pod.Name, c.spec.Name, pid)
			continue
		}
		if ok && s.State.Terminated != nil {
			t := s.State.Terminated
			c.started = true
			c.last = &exitInfo{ExitCode: int(t.ExitCode), Signal: int(t.Signal), Reason: t.Reason,
				StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time}
			c.lastMsg = t.Message
		}
	}
}

// watchAdopted waits for a shim that is not our child, then reports its exit file.
func (w *podWorker) watchAdopted(name string, restart int32, pid int, exitPath string) {
	for alive(pid) {
		time.Sleep(500 * time.Millisecond)
	}
	info := exitInfo{ExitCode: 128, Reason: "Error", Message: "container shim exited without a status", FinishedAt: time.Now()}
	if b, err := os.ReadFile(exitPath); err == nil {
		var ei exitInfo
		if json.Unmarshal(b, &ei) == nil {
			info = ei
		}
	}
	w.report(ctrExit{name: name, restart: restart, info: info})
}
