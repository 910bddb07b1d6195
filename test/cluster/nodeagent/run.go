package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig (server address and CA)")
	caCert := fs.String("ca-cert", "", "cluster CA certificate")
	caKey := fs.String("ca-key", "", "cluster CA key")
	nodeName := fs.String("node-name", "", "node name, e.g. rc-node-1")
	nodeIPs := fs.String("node-ip", "", "node InternalIP, e.g. 198.18.0.11")
	nodeIndex := fs.Int("node-index", 0, "node index i (netns rc-node-<i>, veth rcn<i>-h)")
	bridge := fs.String("bridge", "rcbr0", "host bridge")
	bridgeIP := fs.String("bridge-ip", "198.18.0.1/24", "host bridge address (CIDR)")
	stateDir := fs.String("state-dir", "", "per-node state dir")
	imageMapPath := fs.String("image-map", "", "image map JSON")
	logFile := fs.String("log-file", "", "log file (default stderr)")
	taints := fs.String("register-with-taints", "", "optional taints key=value:Effect[,...] set at registration")
	fs.Parse(args)
	if *nodeName == "" || *nodeIPs == "" || *nodeIndex <= 0 || *stateDir == "" || *caCert == "" || *caKey == "" {
		return fmt.Errorf("--node-name, --node-ip, --node-index, --state-dir, --ca-cert, --ca-key are required")
	}
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		os.Stderr = f
		syscall.Dup2(int(f.Fd()), 2)
	}
	logPrefix = *nodeName
	nodeIP := net.ParseIP(*nodeIPs).To4()
	if nodeIP == nil {
		return fmt.Errorf("bad --node-ip %q", *nodeIPs)
	}
	_, bnet, err := net.ParseCIDR(*bridgeIP)
	if err != nil {
		return fmt.Errorf("bad --bridge-ip: %w", err)
	}
	prefix, _ := bnet.Mask.Size()
	sd, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(sd, "pods"), 0o755); err != nil {
		return err
	}
	os.MkdirAll(filepath.Join(sd, "root"), 0o755)
	os.WriteFile(filepath.Join(sd, "agent.pid"), []byte(fmt.Sprintf("%d %d\n", os.Getpid(), procStartTime(os.Getpid()))), 0o644)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	images, err := loadImageMap(*imageMapPath)
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
	cs, err := nodeClient(admin, authority, *nodeName, 50, 100)
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	var exitErr error

	nn := &nodeNet{ns: nodeNetnsPrefix + strconv.Itoa(*nodeIndex), hostVeth: fmt.Sprintf("rcn%d-h", *nodeIndex),
		nodeIP: nodeIP, prefix: prefix, bridge: *bridge, bridgeIP: *bridgeIP}
	if err := nn.setupNode(); err != nil {
		return fmt.Errorf("node network: %w", err)
	}
	logf("network ready: netns %s, eth0 %s", nn.ns, nodeIP)

	ident := &nodeIdentity{name: *nodeName, ip: nodeIP.String(), kind: "real", cs: cs, statusEv: time.Minute}
	if ident.taints, err = parseTaints(*taints); err != nil {
		return err
	}
	var node *v1.Node
	for {
		node, err = ident.register(ctx)
		if err == nil {
			break
		}
		logf("%v (retrying)", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	logf("registered node %s", *nodeName)
	go ident.heartbeat(ctx, node.UID)

	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	defer bc.Shutdown()
	recorder := bc.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: *nodeName})

	a := &agent{ctx: ctx, nodeName: *nodeName, nodeIP: nodeIP, stateDir: sd, cs: cs, images: images, net: nn,
		self: self, mps: &mountpointStore{dir: filepath.Dir(sd)}, recorder: recorder, workers: map[types.UID]*podWorker{}}

	// Nodes: our podCIDR, and routes to every other real node's podCIDR.
	nodeInf := informers.NewSharedInformerFactory(cs, 0)
	ni := nodeInf.Core().V1().Nodes().Informer()
	syncNodes := func() {
		peers := map[string]string{}
		for _, o := range ni.GetStore().List() {
			n := o.(*v1.Node)
			if n.Spec.PodCIDR == "" {
				continue
			}
			if n.Name == *nodeName {
				if !nn.hasPodCIDR() {
					if err := nn.setPodCIDR(n.Spec.PodCIDR); err != nil {
						logf("podCIDR: %v", err)
						continue
					}
					logf("podCIDR %s", n.Spec.PodCIDR)
					a.wakeAll()
				}
				continue
			}
			for _, ad := range n.Status.Addresses {
				if ad.Type == v1.NodeInternalIP && bnet.Contains(net.ParseIP(ad.Address)) {
					peers[n.Spec.PodCIDR] = ad.Address
				}
			}
		}
		nn.syncPeerRoutes(peers)
	}
	ni.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { syncNodes() },
		UpdateFunc: func(o, n any) { syncNodes() },
		DeleteFunc: func(any) { syncNodes() },
	})
	nodeInf.Start(ctx.Done())

	podInf := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", *nodeName).String()
	}))
	pi := podInf.Core().V1().Pods().Informer()
	pi.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.podUpdate(o.(*v1.Pod), false) },
		UpdateFunc: func(_, o any) { a.podUpdate(o.(*v1.Pod), false) },
		DeleteFunc: func(o any) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if p, ok := o.(*v1.Pod); ok {
				a.podUpdate(p, true)
			}
		},
	})
	podInf.Start(ctx.Done())

	srv, err := startKubeletAPI(a, authority, nn.ns, nodeIP)
	if err != nil {
		return fmt.Errorf("kubelet API: %w", err)
	}
	logf("kubelet API on https://%s:10250 (netns %s)", nodeIP, nn.ns)
	go watchNodeNetwork(ctx, cancel, nn, &exitErr)
	<-ctx.Done()
	logf("stopping (pods keep running; `nodeagent cleanup` removes them)")
	srv.Close()
	return exitErr
}

// watchNodeNetwork stops the agent when its node netns or the bridge disappears (someone ran
// cleanup under it): the node then goes NotReady, which is the truth, instead of reporting
// Ready with no network. Restarting the agent recreates everything.
func watchNodeNetwork(ctx context.Context, cancel context.CancelFunc, nn *nodeNet, exitErr *error) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !netnsExists(nn.ns) || !linkExists("", nn.bridge) {
			*exitErr = fmt.Errorf("node network vanished (netns %s or bridge %s missing): exiting so the node goes NotReady; restart the agent to recreate it", nn.ns, nn.bridge)
			logf("%v", *exitErr)
			cancel()
			return
		}
	}
}

func (a *agent) wakeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.workers {
		w.update(nil, false)
	}
}
