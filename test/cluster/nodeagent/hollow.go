package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Hollow mode: N nodes from one process, for scale tests. Each node has its own client
// certificate (the Node authorizer then accepts its writes), registers, keeps its lease, and
// "runs" bound pods by reporting Running then Succeeded (exit 0). No processes, no netns.
// Pods are watched once for all nodes with the admin client (one watch instead of N); every
// write goes through the owning node's client.

type hollowNode struct {
	ident *nodeIdentity
	uid   types.UID
	lease *coordv1.Lease
}

func cmdHollow(args []string) error {
	fs := flag.NewFlagSet("hollow", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig")
	caCert := fs.String("ca-cert", "", "cluster CA certificate")
	caKey := fs.String("ca-key", "", "cluster CA key")
	count := fs.Int("count", 10, "number of hollow nodes")
	prefix := fs.String("prefix", "rc-hollow-", "node name prefix")
	start := fs.Int("start", 1, "first index")
	parallel := fs.Int("parallel", 16, "concurrent registrations")
	taintSpec := fs.String("register-with-taints", "", "optional taints key=value:Effect[,...] for every hollow node")
	fs.Parse(args)
	logPrefix = "hollow"
	taints, err := parseTaints(*taintSpec)
	if err != nil {
		return err
	}
	authority, err := loadCA(*caCert, *caKey)
	if err != nil {
		return err
	}
	admin, err := adminConfig(*kubeconfig)
	if err != nil {
		return err
	}
	adminCS, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	version := ""
	if v, err := adminCS.Discovery().ServerVersion(); err == nil {
		version = v.GitVersion // asked once, not by each of the N nodes
	}

	nodes := make(map[string]*hollowNode, *count)
	var mu sync.Mutex
	var ready atomic.Int64
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	began := time.Now()
	for i := *start; i < *start+*count; i++ {
		name := fmt.Sprintf("%s%d", *prefix, i)
		// Hollow nodes get loopback addresses: anything dialling their "kubelet" is refused
		// locally instead of leaving the machine.
		ipAddr := fmt.Sprintf("127.1.%d.%d", i/250, i%250+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cs, err := nodeClient(admin, authority, name, 5, 10)
			if err != nil {
				logf("%s: %v", name, err)
				return
			}
			hn := &hollowNode{ident: &nodeIdentity{name: name, ip: ipAddr, kind: "hollow", cs: cs, taints: taints, version: version,
				statusEv: 5*time.Minute + time.Duration(rand.Int64N(int64(time.Minute)))}}
			for {
				node, err := hn.ident.register(ctx)
				if err == nil {
					hn.uid = node.UID
					break
				}
				if ctx.Err() != nil {
					return
				}
				logf("%v (retrying)", err)
				time.Sleep(time.Second + time.Duration(rand.Int64N(int64(time.Second))))
			}
			mu.Lock()
			nodes[name] = hn
			mu.Unlock()
			ready.Add(1)
			go hn.heartbeat(ctx)
		}()
	}
	go func() {
		wg.Wait()
		logf("%d/%d hollow nodes registered in %s", ready.Load(), *count, time.Since(began).Round(time.Millisecond))
	}()

	// Pods: one cluster-wide watch, filtered by prefix.
	type job struct {
		pod *v1.Pod
	}
	queue := make(chan job, 4096)
	var seen sync.Map // uid -> phase handled
	inf := informers.NewSharedInformerFactory(adminCS, 0)
	pi := inf.Core().V1().Pods().Informer()
	enqueue := func(o any) {
		p, ok := o.(*v1.Pod)
		if !ok || !strings.HasPrefix(p.Spec.NodeName, *prefix) {
			return
		}
		select {
		case queue <- job{p}:
		case <-ctx.Done():
		}
	}
	pi.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, n any) { enqueue(n) },
		DeleteFunc: func(o any) {
			if p, ok := o.(*v1.Pod); ok {
				seen.Delete(p.UID)
				seen.Delete(string(p.UID) + "/del")
			}
		},
	})
	inf.Start(ctx.Done())
	for range 8 {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-queue:
					mu.Lock()
					hn := nodes[j.pod.Spec.NodeName]
					mu.Unlock()
					if hn == nil {
						// Not registered yet: retry shortly.
						go func() { time.Sleep(time.Second); enqueue(j.pod) }()
						continue
					}
					hn.handlePod(ctx, j.pod, &seen)
				}
			}
		}()
	}
	<-ctx.Done()
	logf("stopping")
	return nil
}

func (hn *hollowNode) heartbeat(ctx context.Context) {
	// Spread the first renewals so N nodes don't renew in lockstep.
	time.Sleep(time.Duration(rand.Int64N(int64(10 * time.Second))))
	lastStatus := time.Now()
	for {
		if err := hn.renewLease(ctx); err != nil && ctx.Err() == nil {
			logf("lease %s: %v", hn.ident.name, err)
		}
		if time.Since(lastStatus) > hn.ident.statusEv {
			hn.ident.reportStatus(ctx)
			lastStatus = time.Now()
		}
		d := 10*time.Second + time.Duration(rand.Int64N(int64(2*time.Second))) - time.Second
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// renewLease keeps the Lease object in memory: one Update per renewal, a Get only after a
// conflict. That halves the requests of 500 nodes.
func (hn *hollowNode) renewLease(ctx context.Context) error {
	leases := hn.ident.cs.CoordinationV1().Leases(v1.NamespaceNodeLease)
	if hn.lease != nil {
		l := hn.lease.DeepCopy()
		now := metav1.NewMicroTime(time.Now())
		l.Spec.RenewTime = &now
		got, err := leases.Update(ctx, l, metav1.UpdateOptions{})
		if err == nil {
			hn.lease = got
			return nil
		}
		hn.lease = nil
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if err := hn.ident.renewLease(ctx, hn.uid); err != nil {
		return err
	}
	got, err := leases.Get(ctx, hn.ident.name, metav1.GetOptions{})
	if err == nil {
		hn.lease = got
	}
	return err
}

// handlePod: Pending -> Running -> Succeeded at once (Always pods stay Running, otherwise
// their controllers would recreate them in a loop); deletion is finalized with grace 0.
func (hn *hollowNode) handlePod(ctx context.Context, pod *v1.Pod, seen *sync.Map) {
	pods := hn.ident.cs.CoreV1().Pods(pod.Namespace)
	if pod.DeletionTimestamp != nil {
		if _, done := seen.LoadOrStore(string(pod.UID)+"/del", true); done {
			return
		}
		zero := int64(0)
		uid := pod.UID
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			logf("delete %s/%s: %v", pod.Namespace, pod.Name, err)
			seen.Delete(string(pod.UID) + "/del")
		}
		return
	}
	if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
		return
	}
	if _, done := seen.LoadOrStore(pod.UID, "started"); done {
		return
	}
	now := metav1.Now()
	hostIP := hn.ident.ip
	statuses := func(running bool) []v1.ContainerStatus {
		var out []v1.ContainerStatus
		for _, c := range pod.Spec.Containers {
			cs := v1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "rc-image://" + imageRepository(c.Image),
				ContainerID: containerID(pod.UID, c.Name, 0), Ready: running, Started: &running}
			if running {
				cs.State.Running = &v1.ContainerStateRunning{StartedAt: now}
			} else {
				cs.State.Terminated = &v1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: cs.ContainerID}
			}
			out = append(out, cs)
		}
		return out
	}
	cond := func(t v1.PodConditionType, ok bool, reason string) v1.PodCondition {
		s := v1.ConditionFalse
		if ok {
			s = v1.ConditionTrue
		}
		return v1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now}
	}
	patch := func(phase v1.PodPhase, running bool) error {
		reason := ""
		if !running {
			reason = "PodCompleted"
		}
		conds := []v1.PodCondition{cond(v1.PodScheduled, true, ""), cond(v1.PodInitialized, true, ""),
			cond(v1.ContainersReady, running, reason), cond(v1.PodReady, running, reason)}
		st := v1.PodStatus{Phase: phase, HostIP: hostIP, HostIPs: []v1.HostIP{{IP: hostIP}}, StartTime: &now,
			Conditions: conds, ContainerStatuses: statuses(running)}
		if pod.Spec.HostNetwork {
			st.PodIP, st.PodIPs = hostIP, []v1.PodIP{{IP: hostIP}}
		}
		body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"uid": pod.UID}, "status": st})
		_, err := pods.Patch(ctx, pod.Name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
		return err
	}
	if err := patch(v1.PodRunning, true); err != nil {
		if !apierrors.IsNotFound(err) {
			logf("status %s/%s: %v", pod.Namespace, pod.Name, err)
			seen.Delete(pod.UID)
		}
		return
	}
	if pod.Spec.RestartPolicy == v1.RestartPolicyAlways {
		return
	}
	if err := patch(v1.PodSucceeded, false); err != nil && !apierrors.IsNotFound(err) {
		logf("status %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}
