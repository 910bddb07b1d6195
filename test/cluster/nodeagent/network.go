package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Networking is done with iproute2 ("ip"): it is on every Debian machine, its errors are
// readable, and it keeps the agent free of netlink code. All names are derived from the
// CONTRACT so `cleanup` can find them without any state.

const (
	nodeNetnsPrefix = "rc-node-"
	podNetnsPrefix  = "rc-pod-"
	podGateway      = "169.254.1.1" // link-local next hop inside every pod ns (proxy ARP answers it)
	ourRange        = "198.18.0.0/15"
)

func ip(args ...string) error {
	_, err := ipOut(args...)
	return err
}

func ipOut(args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// inNetns runs a command inside a named netns (used only for sysctls of our own namespaces).
func inNetns(ns string, args ...string) error {
	all := append([]string{"netns", "exec", ns}, args...)
	return ip(all...)
}

func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

func linkExists(ns, name string) bool {
	args := []string{"link", "show", "dev", name}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	return ip(args...) == nil
}

func ensureNetns(name string) error {
	if netnsExists(name) {
		return nil
	}
	if err := ip("netns", "add", name); err != nil && !netnsExists(name) {
		return err
	}
	return nil
}

// setSysctl writes a sysctl inside one of our namespaces (never the host's).
func setSysctl(ns, key, value string) error {
	return inNetns(ns, "sysctl", "-q", "-w", key+"="+value)
}

type nodeNet struct {
	ns       string // rc-node-<i>
	hostVeth string // rcn<i>-h
	nodeIP   net.IP
	prefix   int // node subnet prefix length (from --bridge-ip)
	bridge   string
	bridgeIP string // CIDR

	mu       sync.Mutex
	podCIDR  *net.IPNet
	used     map[string]bool // allocated pod IPs
	routes   map[string]string
	hostRtes map[string]bool
}

// setupNode creates bridge, node netns and its veth idempotently.
func (n *nodeNet) setupNode() error {
	if !linkExists("", n.bridge) {
		if err := ip("link", "add", n.bridge, "type", "bridge"); err != nil && !linkExists("", n.bridge) {
			return err
		}
	}
	if err := ip("addr", "replace", n.bridgeIP, "dev", n.bridge); err != nil {
		return err
	}
	if err := ip("link", "set", n.bridge, "up"); err != nil {
		return err
	}
	// Safety net: nothing aimed at our range may leave through the host's default route.
	// More specific routes (the bridge subnet, pod CIDRs via nodes) still win.
	_ = ip("route", "replace", "unreachable", ourRange)
	if err := ensureNetns(n.ns); err != nil {
		return err
	}
	if !linkExists("", n.hostVeth) || !linkExists(n.ns, "eth0") {
		_ = ip("link", "del", n.hostVeth)
		_ = ip("-n", n.ns, "link", "del", "eth0")
		if err := ip("link", "add", n.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", n.ns); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"link", "set", n.hostVeth, "master", n.bridge},
		{"link", "set", n.hostVeth, "up"},
		{"-n", n.ns, "addr", "replace", fmt.Sprintf("%s/%d", n.nodeIP, n.prefix), "dev", "eth0"},
		{"-n", n.ns, "link", "set", "eth0", "up"},
		{"-n", n.ns, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	// Forwarding between pod veths and eth0 happens in the node ns only.
	for k, v := range map[string]string{
		"net.ipv4.ip_forward":             "1",
		"net.ipv4.conf.all.rp_filter":     "0",
		"net.ipv4.conf.default.rp_filter": "0",
		"net.ipv4.conf.eth0.rp_filter":    "0",
	} {
		if err := setSysctl(n.ns, k, v); err != nil {
			return err
		}
	}
	return nil
}

// setPodCIDR records the node's podCIDR and routes it from the host to the node, so the host
// (and the apiserver) can reach pods without any forwarding in the host netns.
func (n *nodeNet) setPodCIDR(cidr string) error {
	_, c, err := net.ParseCIDR(cidr)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.podCIDR = c
	if n.used == nil {
		n.used = map[string]bool{}
	}
	n.mu.Unlock()
	return ip("route", "replace", c.String(), "via", n.nodeIP.String(), "dev", n.bridge)
}

// syncPeerRoutes keeps one route per other node's podCIDR via that node's InternalIP.
func (n *nodeNet) syncPeerRoutes(peers map[string]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.routes == nil {
		n.routes = map[string]string{}
	}
	for cidr, via := range peers {
		if n.routes[cidr] == via {
			continue
		}
		if err := ip("-n", n.ns, "route", "replace", cidr, "via", via, "dev", "eth0"); err != nil {
			logf("peer route %s via %s: %v", cidr, via, err)
			continue
		}
		n.routes[cidr] = via
	}
	for cidr := range n.routes {
		if _, ok := peers[cidr]; !ok {
			_ = ip("-n", n.ns, "route", "del", cidr)
			delete(n.routes, cidr)
		}
	}
}

func (n *nodeNet) hasPodCIDR() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.podCIDR != nil
}

// allocIP hands out the lowest free address from .2 up (.0 network, .1 reserved).
func (n *nodeNet) allocIP(preferred string) (net.IP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.podCIDR == nil {
		return nil, fmt.Errorf("node has no podCIDR yet")
	}
	if p := net.ParseIP(preferred); p != nil && n.podCIDR.Contains(p) && !n.used[p.String()] {
		n.used[p.String()] = true
		return p, nil
	}
	base := n.podCIDR.IP.To4()
	ones, bits := n.podCIDR.Mask.Size()
	size := 1 << (bits - ones)
	for i := 2; i < size-1; i++ {
		c := make(net.IP, 4)
		copy(c, base)
		v := uint32(c[0])<<24 | uint32(c[1])<<16 | uint32(c[2])<<8 | uint32(c[3])
		v += uint32(i)
		c[0], c[1], c[2], c[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		if !n.used[c.String()] {
			n.used[c.String()] = true
			return c, nil
		}
	}
	return nil, fmt.Errorf("podCIDR %s exhausted", n.podCIDR)
}

func (n *nodeNet) releaseIP(ipStr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.used, ipStr)
}

func podNetnsName(uid string) string { return podNetnsPrefix + shortUID(uid) }
func podVethName(uid string) string  { return "veth" + shortUID(uid) }

func shortUID(uid string) string {
	s := strings.ReplaceAll(uid, "-", "")
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// setupPod creates the pod netns and its ptp veth: pod side eth0 with <ip>/32 and a default
// route via a link-local gateway, node side veth<uid8> with a /32 route to the pod.
func (n *nodeNet) setupPod(uid string, podIP net.IP) error {
	ns, veth := podNetnsName(uid), podVethName(uid)
	if err := ensureNetns(ns); err != nil {
		return err
	}
	if !linkExists(n.ns, veth) {
		_ = ip("-n", ns, "link", "del", "eth0")
		if err := ip("-n", n.ns, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"-n", n.ns, "link", "set", veth, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "replace", podIP.String() + "/32", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "replace", podGateway, "dev", "eth0", "scope", "link"},
		{"-n", ns, "route", "replace", "default", "via", podGateway, "dev", "eth0"},
		{"-n", n.ns, "route", "replace", podIP.String() + "/32", "dev", veth},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	// The pod resolves its gateway to the node-side veth through a permanent neighbour entry:
	// proxy ARP alone would not answer, because the node netns has no route to 169.254.1.1
	// (it has no default route, on purpose).
	mac, err := linkMAC(n.ns, veth)
	if err != nil {
		return err
	}
	if err := ip("-n", ns, "neigh", "replace", podGateway, "lladdr", mac, "dev", "eth0", "nud", "permanent"); err != nil {
		return err
	}
	if err := setSysctl(n.ns, "net.ipv4.conf."+veth+".proxy_arp", "1"); err != nil {
		return err
	}
	return setSysctl(n.ns, "net.ipv4.conf."+veth+".rp_filter", "0")
}

func (n *nodeNet) teardownPod(uid string, podIP string) {
	ns, veth := podNetnsName(uid), podVethName(uid)
	if podIP != "" {
		_ = ip("-n", n.ns, "route", "del", podIP+"/32")
	}
	_ = ip("-n", n.ns, "link", "del", veth)
	if netnsExists(ns) {
		if err := ip("netns", "del", ns); err != nil {
			logf("netns del %s: %v", ns, err)
		}
	}
}

// listenInNetns opens a TCP listener from a thread that has joined the given netns. The
// socket stays in that netns; the thread is never unlocked, so Go discards it afterwards
// instead of reusing a thread with a foreign netns.
func listenInNetns(ns, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			ch <- result{nil, err}
			return
		}
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

// linkMAC returns the MAC address of a link in a netns.
func linkMAC(ns, name string) (string, error) {
	out, err := ipOut("-n", ns, "-o", "link", "show", "dev", name)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "link/ether" {
			return f[i+1], nil
		}
	}
	return "", fmt.Errorf("no MAC address on %s in %s", name, ns)
}
