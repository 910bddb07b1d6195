package main

import (
	"encoding/json"
	"fmt"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// pushStatus writes the pod's status with a merge patch on the status subresource (lists such
// as conditions and containerStatuses are replaced whole), skipping unchanged statuses.
func (w *podWorker) pushStatus() {
	w.publish()
	pod := w.snapshot()
	st := w.buildStatus(pod)
	// A merge patch leaves omitted fields alone: clear a stale reason/message explicitly.
	raw, err := json.Marshal(st)
	if err != nil {
		return
	}
	var stMap map[string]any
	if err := json.Unmarshal(raw, &stMap); err != nil {
		return
	}
	for _, k := range []string{"reason", "message"} {
		if _, ok := stMap[k]; !ok {
			stMap[k] = nil
		}
	}
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": pod.UID},
		"status":   stMap,
	})
	if err != nil {
		return
	}
	if string(body) == w.lastPush {
		return
	}
	_, err = w.a.cs.CoreV1().Pods(pod.Namespace).Patch(w.a.ctx, pod.Name, types.MergePatchType, body,
		metav1.PatchOptions{}, "status")
	if err != nil {
		if !apierrors.IsNotFound(err) {
			logf("status %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		return
	}
	w.lastPush = string(body)
}

func containerID(uid types.UID, name string, restart int32) string {
	return fmt.Sprintf("rc://%s-%s-%d", shortUID(string(uid)), name, restart)
}

func (w *podWorker) ctrStatus(c *ctrState) v1.ContainerStatus {
	cs := v1.ContainerStatus{
		Name:         c.spec.Name,
		Image:        c.spec.Image,
		ImageID:      "rc-image://" + imageRepository(c.spec.Image),
		RestartCount: c.restarts,
	}
	started := c.running
	cs.Started = &started
	term := func(e *exitInfo, msg string, restart int32) *v1.ContainerStateTerminated {
		reason := e.Reason
		if reason == "" {
			reason = "Completed"
			if e.ExitCode != 0 {
				reason = "Error"
			}
		}
		return &v1.ContainerStateTerminated{
			ExitCode: int32(e.ExitCode), Signal: int32(e.Signal), Reason: reason, Message: msg,
			StartedAt: metav1.NewTime(e.StartedAt), FinishedAt: metav1.NewTime(e.FinishedAt),
			ContainerID: containerID(w.uid, c.spec.Name, restart),
		}
	}
	switch {
	case c.running:
		cs.State.Running = &v1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt)}
		cs.Ready = !c.init
		cs.ContainerID = containerID(w.uid, c.spec.Name, c.restarts)
		if c.last != nil {
			cs.LastTerminationState.Terminated = term(c.last, c.lastMsg, c.restarts-1)
		}
	case c.last != nil:
		pol := w.snapshot().Spec.RestartPolicy
		willRestart := (c.init && c.last.ExitCode != 0 && pol != v1.RestartPolicyNever) ||
			(!c.init && shouldRestart(pol, c.last.ExitCode))
		if willRestart && w.phase != v1.PodFailed && w.phase != v1.PodSucceeded && w.snapshot().DeletionTimestamp == nil {
			cs.State.Waiting = &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off restarting failed container %s in pod %s", c.spec.Name, w.snapshot().Name)}
			cs.LastTerminationState.Terminated = term(c.last, c.lastMsg, c.restarts)
		} else {
			cs.State.Terminated = term(c.last, c.lastMsg, c.restarts)
			cs.ContainerID = cs.State.Terminated.ContainerID
			if c.prevExit != nil {
				cs.LastTerminationState.Terminated = term(c.prevExit, c.prevMsg, c.restarts-1)
			}
		}
	default:
		reason, msg := c.waitReason, c.waitMsg
		if reason == "" {
			reason = "ContainerCreating"
			if !c.init && len(w.initCtrs) > 0 {
				reason = "PodInitializing"
			}
		}
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: reason, Message: msg}
	}
	return cs
}

func (w *podWorker) setCond(conds []v1.PodCondition, t v1.PodConditionType, ok bool, reason string) []v1.PodCondition {
	s := v1.ConditionFalse
	if ok {
		s = v1.ConditionTrue
	}
	if w.condState[t] != s {
		w.condState[t] = s
		w.condTimes[t] = metav1.Now()
	}
	return append(conds, v1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: w.condTimes[t]})
}

func (w *podWorker) buildStatus(pod *v1.Pod) v1.PodStatus {
	st := v1.PodStatus{
		Phase:     w.phase,
		Reason:    w.reason,
		Message:   w.message,
		HostIP:    w.a.nodeIP.String(),
		HostIPs:   []v1.HostIP{{IP: w.a.nodeIP.String()}},
		StartTime: &w.startTime,
		QOSClass:  pod.Status.QOSClass,
	}
	if w.podIP != "" {
		st.PodIP = w.podIP
		st.PodIPs = []v1.PodIP{{IP: w.podIP}}
	}
	for _, c := range w.initCtrs {
		st.InitContainerStatuses = append(st.InitContainerStatuses, w.ctrStatus(c))
	}
	allReady := len(w.ctrs) > 0
	for _, c := range w.ctrs {
		cs := w.ctrStatus(c)
		if !cs.Ready {
			allReady = false
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	initialized := true
	for _, c := range w.initCtrs {
		if c.last == nil || c.last.ExitCode != 0 {
			initialized = false
		}
	}
	terminal := w.phase == v1.PodSucceeded || w.phase == v1.PodFailed
	// Keep conditions owned by others (PodScheduled, DisruptionTarget, ...).
	var conds []v1.PodCondition
	scheduled := false
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled {
			scheduled = true
		}
	}
	if !scheduled { // bound directly through spec.nodeName, as the kubelet reports it
		conds = w.setCond(conds, v1.PodScheduled, true, "")
	}
	for _, c := range pod.Status.Conditions {
		switch c.Type {
		case v1.PodInitialized, v1.PodReady, v1.ContainersReady, v1.PodReadyToStartContainers:
		default:
			conds = append(conds, c)
		}
	}
	conds = w.setCond(conds, v1.PodReadyToStartContainers, w.prepared && !terminal, "")
	conds = w.setCond(conds, v1.PodInitialized, initialized || terminal, "")
	readyReason := ""
	if terminal {
		readyReason = "PodCompleted"
	} else if !allReady {
		readyReason = "ContainersNotReady"
	}
	conds = w.setCond(conds, v1.ContainersReady, allReady && !terminal, readyReason)
	conds = w.setCond(conds, v1.PodReady, allReady && !terminal, readyReason)
	st.Conditions = conds
	return st
}
