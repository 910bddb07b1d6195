package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// nodeIdentity describes a Node as the kubelet registers it.
type nodeIdentity struct {
	name     string
	ip       string
	kind     string // "real" | "hollow"
	cs       kubernetes.Interface
	statusEv time.Duration // full status report period (lease is the heartbeat)
	taints   []v1.Taint
	version  string // reported kubelet version: the apiserver's, so no skew warnings
}

// parseTaints reads "k=v:Effect,k2:Effect".
func parseTaints(s string) ([]v1.Taint, error) {
	var out []v1.Taint
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		kv, eff, ok := strings.Cut(t, ":")
		if !ok {
			return nil, fmt.Errorf("bad taint %q (want key=value:Effect)", t)
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, v1.Taint{Key: k, Value: v, Effect: v1.TaintEffect(eff)})
	}
	return out, nil
}

const leaseDuration = 40

func (n *nodeIdentity) labels() map[string]string {
	return map[string]string{
		"kubernetes.io/hostname":           n.name,
		"kubernetes.io/os":                 "linux",
		"kubernetes.io/arch":               "amd64",
		"beta.kubernetes.io/os":            "linux",
		"beta.kubernetes.io/arch":          "amd64",
		"node.kubernetes.io/instance-type": "virtual",
		"retina-capture.test/kind":         n.kind,
	}
}

func (n *nodeIdentity) status() v1.NodeStatus {
	now := metav1.Now()
	res := v1.ResourceList{
		v1.ResourceCPU:              resource.MustParse("8"),
		v1.ResourceMemory:           resource.MustParse("16Gi"),
		v1.ResourcePods:             resource.MustParse("110"),
		v1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	cond := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return v1.NodeStatus{
		Capacity:    res,
		Allocatable: res,
		Conditions: []v1.NodeCondition{
			cond(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Addresses:       []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: n.ip}, {Type: v1.NodeHostName, Address: n.name}},
		DaemonEndpoints: v1.NodeDaemonEndpoints{KubeletEndpoint: v1.DaemonEndpoint{Port: 10250}},
		NodeInfo: v1.NodeSystemInfo{
			MachineID: n.name, SystemUUID: n.name, BootID: n.name,
			KernelVersion: "virtual", OSImage: "retina-capture test node (" + n.kind + ")",
			ContainerRuntimeVersion: "nodeagent://1", KubeletVersion: n.kubeletVersion(), KubeProxyVersion: "",
			OperatingSystem: "linux", Architecture: "amd64",
		},
	}
}

// register creates the Node (or takes over an existing one) and reports Ready status.
func (n *nodeIdentity) register(ctx context.Context) (*v1.Node, error) {
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: n.labels()}, Spec: v1.NodeSpec{Taints: n.taints}}
	got, err := n.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = n.cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err == nil {
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": n.labels()}})
			got, err = n.cs.CoreV1().Nodes().Patch(ctx, n.name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("register node %s: %w", n.name, err)
	}
	if err := n.reportStatus(ctx); err != nil {
		return nil, err
	}
	return got, nil
}

func (n *nodeIdentity) reportStatus(ctx context.Context) error {
	patch, _ := json.Marshal(map[string]any{"status": n.status()})
	_, err := n.cs.CoreV1().Nodes().PatchStatus(ctx, n.name, patch)
	if err != nil {
		return fmt.Errorf("node %s status: %w", n.name, err)
	}
	return nil
}

// renewLease creates or renews the node's Lease in kube-node-lease; the node lifecycle
// controller treats it as the heartbeat.
func (n *nodeIdentity) renewLease(ctx context.Context, nodeUID types.UID) error {
	leases := n.cs.CoordinationV1().Leases(v1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		dur := int32(leaseDuration)
		holder := n.name
		l = &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: v1.NamespaceNodeLease},
			Spec:       coordv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now},
		}
		if nodeUID != "" {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: nodeUID}}
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the lease (every ~10 s, jittered) and re-reports status periodically.
func (n *nodeIdentity) heartbeat(ctx context.Context, nodeUID types.UID) {
	lastStatus := time.Now()
	for {
		if err := n.renewLease(ctx, nodeUID); err != nil && ctx.Err() == nil {
			logf("lease %s: %v", n.name, err)
		}
		if time.Since(lastStatus) > n.statusEv {
			if err := n.reportStatus(ctx); err != nil && ctx.Err() == nil {
				logf("%v", err)
			}
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

func (n *nodeIdentity) kubeletVersion() string {
	if n.version != "" {
		return n.version
	}
	if v, err := n.cs.Discovery().ServerVersion(); err == nil {
		n.version = v.GitVersion
		return n.version
	}
	return "v0.0.0-nodeagent"
}
