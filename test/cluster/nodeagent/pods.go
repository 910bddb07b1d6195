package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
)

var errImageNotInMap = fmt.Errorf("image not in the image map")

// agent runs the pods of one real node.
type agent struct {
	ctx      context.Context
	nodeName string
	nodeIP   net.IP
	stateDir string
	cs       kubernetes.Interface
	images   *imageMap
	net      *nodeNet
	self     string // own executable, re-executed as container-init
	mps      *mountpointStore
	recorder record.EventRecorder

	mu      sync.Mutex
	workers map[types.UID]*podWorker
}

func (a *agent) podsDir() string { return filepath.Join(a.stateDir, "pods") }

// podUpdate routes informer events to the pod's worker, starting one for a new pod.
func (a *agent) podUpdate(pod *v1.Pod, deleted bool) {
	a.mu.Lock()
	w := a.workers[pod.UID]
	if w == nil {
		if deleted {
			a.mu.Unlock()
			return
		}
		w = newPodWorker(a, pod)
		a.workers[pod.UID] = w
		a.mu.Unlock()
		go w.run()
		return
	}
	a.mu.Unlock()
	w.update(pod, deleted)
}

func (a *agent) removeWorker(uid types.UID) {
	a.mu.Lock()
	delete(a.workers, uid)
	a.mu.Unlock()
}

func (a *agent) findWorker(ns, name string) *podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.workers {
		p := w.snapshot()
		if p.Namespace == ns && p.Name == name {
			return w
		}
	}
	return nil
}

// podWorker owns one pod from binding to removal; all state changes happen on its goroutine
// (run), other goroutines only read under mu.
type podWorker struct {
	a   *agent
	uid types.UID
	dir string

	mu   sync.Mutex
	pod  *v1.Pod
	gone bool // deleted from the API

	wake   chan struct{}
	events chan ctrExit
	done   chan struct{} // closed when run returns: late exit reports are dropped

	podIP     string
	prepared  bool
	vols      volumeSet
	argv      map[string][]string
	initCtrs  []*ctrState
	ctrs      []*ctrState
	startTime metav1.Time
	phase     v1.PodPhase
	reason    string
	message   string
	prepRetry time.Time
	lastPush  string
	condTimes map[v1.PodConditionType]metav1.Time
	condState map[v1.PodConditionType]v1.ConditionStatus
	published map[string]ctrInfo // read by the kubelet API
	netDown   bool
	prepTries int
}

func newPodWorker(a *agent, pod *v1.Pod) *podWorker {
	w := &podWorker{
		a: a, uid: pod.UID, pod: pod.DeepCopy(),
		dir:       filepath.Join(a.podsDir(), string(pod.UID)),
		wake:      make(chan struct{}, 1),
		events:    make(chan ctrExit, 16),
		done:      make(chan struct{}),
		argv:      map[string][]string{},
		phase:     v1.PodPending,
		condTimes: map[v1.PodConditionType]metav1.Time{},
		condState: map[v1.PodConditionType]v1.ConditionStatus{},
	}
	for _, c := range pod.Spec.InitContainers {
		w.initCtrs = append(w.initCtrs, &ctrState{spec: c, init: true, dir: filepath.Join(w.dir, "containers", c.Name)})
	}
	for _, c := range pod.Spec.Containers {
		w.ctrs = append(w.ctrs, &ctrState{spec: c, dir: filepath.Join(w.dir, "containers", c.Name)})
	}
	return w
}

func (w *podWorker) update(pod *v1.Pod, deleted bool) {
	w.mu.Lock()
	if pod != nil {
		w.pod = pod.DeepCopy()
	}
	if deleted {
		w.gone = true
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *podWorker) snapshot() *v1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) isGone() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone
}

func (w *podWorker) hostNetwork() bool { return w.snapshot().Spec.HostNetwork }

func (w *podWorker) event(typ, reason, format string, args ...any) {
	w.a.recorder.Eventf(w.snapshot(), typ, reason, format, args...)
}

func (w *podWorker) container(name string) *ctrState {
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

func (w *podWorker) run() {
	defer w.a.removeWorker(w.uid)
	defer close(w.done)
	pod := w.snapshot()
	if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
		// Finished before this agent started (agent restart): only finalize deletion.
		w.phase = pod.Status.Phase
		w.teardownNetwork()
		w.waitForDeletion()
		return
	}
	if pod.Status.StartTime != nil {
		w.startTime = *pod.Status.StartTime
	} else {
		w.startTime = metav1.Now()
	}
	w.adopt(pod)
	os.MkdirAll(w.dir, 0o755)
	for {
		pod = w.snapshot()
		if w.isGone() || pod.DeletionTimestamp != nil {
			w.terminate()
			return
		}
		if w.deadlineExceeded(pod) {
			w.killAll(0)
			w.phase, w.reason = v1.PodFailed, "DeadlineExceeded"
			w.message = "Pod was active on the node longer than the specified deadline"
			w.event(v1.EventTypeNormal, "DeadlineExceeded", "%s", w.message)
		}
		if w.phase != v1.PodSucceeded && w.phase != v1.PodFailed {
			w.step()
		}
		w.pushStatus()
		if w.phase == v1.PodSucceeded || w.phase == v1.PodFailed {
			if !w.anyRunning() {
				// Like the kubelet killing the sandbox: the IP goes back once nothing runs.
				w.teardownNetwork()
				w.waitForDeletion()
				return
			}
		}
		timer := time.NewTimer(w.nextWake())
		select {
		case <-w.wake:
		case ev := <-w.events:
			w.handleExit(ev)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// nextWake is the earliest time something is due: a restart, a retry, the deadline.
func (w *podWorker) nextWake() time.Duration {
	next := 30 * time.Second
	due := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if d := time.Until(t); d < next {
			next = d
		}
	}
	due(w.prepRetry)
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		if !c.running {
			due(c.nextStart)
		}
	}
	if ads := w.snapshot().Spec.ActiveDeadlineSeconds; ads != nil {
		due(w.startTime.Add(time.Duration(*ads) * time.Second))
	}
	if next < 10*time.Millisecond {
		next = 10 * time.Millisecond
	}
	return next
}

func (w *podWorker) deadlineExceeded(pod *v1.Pod) bool {
	ads := pod.Spec.ActiveDeadlineSeconds
	return ads != nil && w.phase != v1.PodFailed && w.phase != v1.PodSucceeded &&
		time.Since(w.startTime.Time) >= time.Duration(*ads)*time.Second
}

func (w *podWorker) anyRunning() bool {
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		if c.running {
			return true
		}
	}
	return false
}

// prepare resolves images, the pod network and volumes once; failures are retried.
func (w *podWorker) prepare() error {
	pod := w.snapshot()
	missing := false
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		e, ok := w.a.images.lookup(c.spec.Image)
		if !ok {
			missing = true
			// First ErrImagePull, then (from the second attempt on) ImagePullBackOff.
			if c.waitReason == "ErrImagePull" || c.waitReason == "ImagePullBackOff" {
				c.waitReason = "ImagePullBackOff"
				c.waitMsg = fmt.Sprintf("Back-off pulling image %q", c.spec.Image)
			} else {
				c.waitReason = "ErrImagePull"
				c.waitMsg = imageNotInMapMessage(c.spec.Image)
				w.event(v1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", c.spec.Image, c.waitMsg)
			}
			continue
		}
		w.argv[c.spec.Name] = e.argv(c.spec.Command, c.spec.Args)
	}
	if missing {
		return errImageNotInMap
	}
	hostIP := w.a.nodeIP.String()
	if pod.Spec.HostNetwork {
		w.podIP = hostIP
	} else if w.podIP == "" {
		if !w.a.net.hasPodCIDR() {
			return fmt.Errorf("node has no podCIDR yet")
		}
		ipAddr, err := w.a.net.allocIP(pod.Status.PodIP)
		if err != nil {
			return err
		}
		if err := w.a.net.setupPod(string(w.uid), ipAddr); err != nil {
			w.a.net.releaseIP(ipAddr.String())
			w.event(v1.EventTypeWarning, "FailedCreatePodSandBox", "network: %v", err)
			return err
		}
		w.podIP = ipAddr.String()
	}
	vb := &volumeBuilder{cs: w.a.cs, pod: pod, podDir: w.dir, nodeRoot: filepath.Join(w.a.stateDir, "root"),
		shared: filepath.Join(filepath.Dir(w.a.stateDir), "shared-volumes"), podIP: w.podIP, hostIP: hostIP}
	vols, err := vb.build(w.a.ctx)
	if err != nil {
		w.event(v1.EventTypeWarning, "FailedMount", "MountVolume.SetUp failed: %v", err)
		return err
	}
	w.vols = vols
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		env, vars, err := containerEnv(w.a.ctx, w.a.cs, pod, &c.spec, w.podIP, hostIP)
		if err != nil {
			w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
			return err
		}
		c.env = env
		argv := w.argv[c.spec.Name]
		for i := range argv {
			argv[i] = expandRefs(argv[i], vars)
		}
	}
	return nil
}

// step starts whatever is due: the pod sandbox, the next init container, regular containers.
func (w *podWorker) step() {
	if !w.prepared {
		if time.Now().Before(w.prepRetry) {
			return
		}
		if err := w.prepare(); err != nil {
			if err != errImageNotInMap {
				w.message = err.Error()
			}
			for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
				if c.waitReason == "" || c.waitReason == "ContainerCreating" {
					c.waitReason, c.waitMsg = "ContainerCreating", err.Error()
				}
			}
			// Quick first retries: right after binding, the Node authorizer may not know the
			// pod yet (secrets, tokens are refused for a moment).
			w.prepTries++
			w.prepRetry = time.Now().Add(min(250*time.Millisecond<<min(w.prepTries, 5), 5*time.Second))
			return
		}
		w.prepared, w.message = true, ""
		for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
			c.waitReason, c.waitMsg = "", ""
		}
	}
	policy := w.snapshot().Spec.RestartPolicy
	for _, c := range w.initCtrs {
		if c.last != nil && c.last.ExitCode == 0 && !c.running {
			continue // done
		}
		if c.running {
			return
		}
		if c.last != nil && policy == v1.RestartPolicyNever {
			w.phase, w.reason = v1.PodFailed, ""
			return
		}
		if time.Now().Before(c.nextStart) {
			return
		}
		w.start(c)
		return
	}
	for _, c := range w.ctrs {
		if c.running {
			continue
		}
		if c.last != nil && !shouldRestart(policy, c.last.ExitCode) {
			continue
		}
		if time.Now().Before(c.nextStart) {
			continue
		}
		w.start(c)
	}
	w.phase = w.computePhase(policy)
}

func shouldRestart(policy v1.RestartPolicy, code int) bool {
	switch policy {
	case v1.RestartPolicyNever:
		return false
	case v1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

func (w *podWorker) start(c *ctrState) {
	if c.last != nil {
		c.restarts++
	}
	if err := w.startContainer(c, w.vols, w.argv[c.spec.Name]); err != nil {
		w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
		c.running = false
		now := time.Now()
		c.prevExit, c.prevMsg = c.last, c.lastMsg
		c.last = &exitInfo{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now}
		c.lastMsg = err.Error()
		c.nextStart = now.Add(backoff(c.restarts))
		return
	}
	w.event(v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.spec.Image)
	w.event(v1.EventTypeNormal, "Created", "Created container %s", c.spec.Name)
	w.event(v1.EventTypeNormal, "Started", "Started container %s", c.spec.Name)
}

// backoff is shorter than the kubelet's 10 s..5 min so tests don't wait: 1 s doubling to 30 s.
func backoff(restarts int32) time.Duration {
	d := time.Second << uint(min(restarts, 5))
	return min(d, 30*time.Second)
}

func (w *podWorker) handleExit(ev ctrExit) {
	c := w.container(ev.name)
	if c == nil || ev.restart != c.restarts {
		return
	}
	c.running = false
	c.shim = nil
	c.pid = 0
	info := ev.info
	if info.StartedAt.IsZero() {
		info.StartedAt = c.startedAt
	}
	c.prevExit, c.prevMsg = c.last, c.lastMsg
	c.last = &info
	c.lastMsg = c.terminationMessage(ev.restart, info.ExitCode)
	if info.Message != "" && c.lastMsg == "" {
		c.lastMsg = info.Message
	}
	policy := w.snapshot().Spec.RestartPolicy
	if (c.init && info.ExitCode != 0 && policy != v1.RestartPolicyNever) || (!c.init && shouldRestart(policy, info.ExitCode)) {
		c.nextStart = time.Now().Add(backoff(c.restarts))
		if c.restarts > 0 || info.ExitCode != 0 {
			w.event(v1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.spec.Name, w.snapshot().Name)
		}
	}
}

// computePhase follows the kubelet's getPhase for regular containers.
func (w *podWorker) computePhase(policy v1.RestartPolicy) v1.PodPhase {
	for _, c := range w.initCtrs {
		if c.last == nil || c.last.ExitCode != 0 {
			return v1.PodPending
		}
	}
	running, succeeded, failed, waiting := 0, 0, 0, 0
	for _, c := range w.ctrs {
		switch {
		case c.running:
			running++
		case c.last == nil:
			waiting++
		case shouldRestart(policy, c.last.ExitCode):
			running++ // in back-off, will come back
		case c.last.ExitCode == 0:
			succeeded++
		default:
			failed++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case failed > 0:
		return v1.PodFailed
	default:
		return v1.PodSucceeded
	}
}

// killAll signals every running container with SIGTERM, waits up to grace, then SIGKILLs.
func (w *podWorker) killAll(grace time.Duration) {
	for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
		if c.running {
			w.event(v1.EventTypeNormal, "Killing", "Stopping container %s", c.spec.Name)
			c.signal(syscall.SIGTERM)
		}
		c.nextStart = time.Now().Add(time.Hour) // no restarts while stopping
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	killed := false
	for w.anyRunning() {
		select {
		case ev := <-w.events:
			w.handleExit(ev)
		case <-deadline.C:
			if killed {
				return // shims are gone; nothing more will be reported
			}
			for _, c := range append(append([]*ctrState{}, w.initCtrs...), w.ctrs...) {
				c.signal(syscall.SIGKILL)
			}
			killed = true
			deadline.Reset(5 * time.Second)
		}
	}
}

// terminate handles a pod that is being deleted: stop containers within the grace period,
// report final status, delete the object with grace 0 (as the kubelet does), tear down.
func (w *podWorker) terminate() {
	pod := w.snapshot()
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	if w.isGone() && grace > 2*time.Second {
		grace = 2 * time.Second
	}
	w.killAll(grace)
	if !w.isGone() {
		if w.phase != v1.PodSucceeded && w.phase != v1.PodFailed {
			w.phase = w.computePhase(v1.RestartPolicyNever)
			if w.phase == v1.PodPending || w.phase == v1.PodRunning {
				w.phase = v1.PodFailed
			}
		}
		w.pushStatus()
		w.deleteObject()
	}
	w.teardown()
}

// waitForDeletion parks a finished pod until it is deleted, then finalizes it.
func (w *podWorker) waitForDeletion() {
	for {
		pod := w.snapshot()
		if w.isGone() {
			w.teardown()
			return
		}
		if pod.DeletionTimestamp != nil {
			w.deleteObject()
			w.teardown()
			return
		}
		select {
		case <-w.wake:
		case ev := <-w.events:
			w.handleExit(ev)
		}
	}
}

func (w *podWorker) deleteObject() {
	pod := w.snapshot()
	zero := int64(0)
	uid := pod.UID
	err := w.a.cs.CoreV1().Pods(pod.Namespace).Delete(w.a.ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		logf("delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func (w *podWorker) teardownNetwork() {
	if w.netDown || w.hostNetwork() {
		return
	}
	w.netDown = true
	w.a.net.teardownPod(string(w.uid), w.podIP)
	if w.podIP != "" {
		w.a.net.releaseIP(w.podIP)
	}
}

func (w *podWorker) teardown() {
	w.teardownNetwork()
	w.a.mps.release(w.dir)
	if err := os.RemoveAll(w.dir); err != nil {
		logf("remove %s: %v", w.dir, err)
	}
}

// report delivers a container exit to the worker unless it has finished.
func (w *podWorker) report(ev ctrExit) {
	select {
	case w.events <- ev:
	case <-w.done:
	}
}
