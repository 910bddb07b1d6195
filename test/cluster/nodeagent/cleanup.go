package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cleanup removes everything the agents made, from names alone (CONTRACT) plus pid files, so
// it also works after kill -9 of agents and shims. Order: agents, containers, namespaces,
// links, routes, mounts, created mountpoints, pod dirs.

func defaultStateRoot() string {
	if v := os.Getenv("RETINA_CLUSTER_STATE"); v != "" {
		return v
	}
	// <repo>/.cache/cluster/<version>/bin/nodeagent -> <repo>/.cache/cluster/state
	if exe, err := os.Executable(); err == nil {
		return filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(exe))), "state")
	}
	return ""
}

func cmdCleanup(args []string) error {
	fset := flag.NewFlagSet("cleanup", flag.ExitOnError)
	root := fset.String("state-root", defaultStateRoot(), "cluster state dir to clean")
	fset.Parse(args)
	logPrefix = "cleanup"
	stateRoot := ""
	if *root != "" {
		if abs, err := filepath.Abs(*root); err == nil {
			if _, err := os.Stat(abs); err == nil {
				stateRoot = abs
			}
		}
	}

	// 1. Agents first, so they don't recreate anything; then container shims and processes.
	var agentPids, ctrPids []string
	if stateRoot != "" {
		filepath.WalkDir(stateRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			switch d.Name() {
			case "agent.pid":
				agentPids = append(agentPids, p)
			case "pid", "shim.pid":
				if strings.Contains(p, string(filepath.Separator)+"pods"+string(filepath.Separator)) {
					ctrPids = append(ctrPids, p)
				}
			}
			return nil
		})
	}
	for _, p := range agentPids {
		if pid := livePid(p); pid > 0 {
			logf("stopping agent %d", pid)
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 30 && alive(pid); i++ {
				time.Sleep(100 * time.Millisecond)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		os.Remove(p)
	}
	for _, p := range ctrPids {
		if pid := livePid(p); pid > 0 {
			syscall.Kill(-pid, syscall.SIGKILL)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// Processes that never got a pid file (crash in between): whatever still lives in our
	// namespaces, and shims whose spec is under the state root.
	foreign := foreignAgents(stateRoot)
	var nsList []string
	for _, ns := range ourNetns() {
		if foreign.netns[ns] {
			logf("leaving %s alone: it belongs to a running agent of another state root", ns)
			continue
		}
		nsList = append(nsList, ns)
	}
	for _, ns := range nsList {
		out, _ := ipOut("netns", "pids", ns)
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if stateRoot != "" {
		killShims(stateRoot)
	}
	time.Sleep(200 * time.Millisecond)

	// 2. Namespaces (deleting a node netns also destroys its veths), links, routes.
	for _, ns := range nsList {
		if err := ip("netns", "del", ns); err != nil {
			logf("%v", err)
		}
	}
	links, _ := ipOut("-o", "link", "show")
	for _, l := range strings.Split(links, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if foreign.links[name] || (name == "rcbr0" && foreign.any) {
			continue
		}
		if (strings.HasPrefix(name, "rcn") && strings.HasSuffix(name, "-h")) || name == "rcbr0" {
			// A veth may vanish on its own once its peer's netns is gone.
			if err := ip("link", "del", name); err != nil && linkExists("", name) {
				logf("%v", err)
			}
		}
	}
	if !foreign.any {
		_ = ip("route", "del", "unreachable", ourRange)
	} else {
		// The bridge stays for the other cluster: drop only pod-CIDR routes via our nodes.
		routes, _ := ipOut("route", "show", "dev", "rcbr0")
		for _, l := range strings.Split(routes, "\n") {
			f := strings.Fields(l)
			if len(f) >= 3 && f[1] == "via" && !foreign.ips[f[2]] {
				_ = ip("route", "del", f[0], "via", f[2], "dev", "rcbr0")
			}
		}
	}

	// 3. Mounts: netns bind mounts of ours and anything under the state root.
	unmountOurs(stateRoot, foreign)

	// 4. Created mountpoints and pod dirs.
	if stateRoot != "" {
		var regs []string
		filepath.WalkDir(stateRoot, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == mountpointRegistry {
				regs = append(regs, p)
			}
			return nil
		})
		for _, reg := range regs {
			dir := filepath.Dir(reg)
			pods, _ := filepath.Glob(filepath.Join(dir, "*", "pods"))
			for _, p := range pods {
				os.RemoveAll(p)
			}
			s := &mountpointStore{dir: dir}
			if unlock, err := s.lock(); err == nil {
				s.gcLocked()
				unlock()
			}
		}
		// The state root may be the cluster state, its nodes dir, or one node's dir.
		var pods []string
		for _, pat := range []string{"nodes/*/pods", "*/pods", "pods"} {
			m, _ := filepath.Glob(filepath.Join(stateRoot, pat))
			pods = append(pods, m...)
		}
		for _, p := range pods {
			os.RemoveAll(p)
		}
	}

	// 5. Verify.
	var left []string
	for _, ns := range ourNetns() {
		if !foreign.netns[ns] {
			left = append(left, "netns "+ns)
		}
	}
	if linkExists("", "rcbr0") && !foreign.any {
		left = append(left, "link rcbr0")
	}
	for _, m := range ourMounts(stateRoot, foreign) {
		left = append(left, "mount "+m)
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind: %s", strings.Join(left, ", "))
	}
	logf("clean")
	return nil
}

func ourNetns() []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), nodeNetnsPrefix) || strings.HasPrefix(e.Name(), podNetnsPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// livePid reads "pid starttime" and returns pid only if that very process still runs.
func livePid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 1 {
		return 0
	}
	if len(f) >= 2 {
		st, _ := strconv.ParseUint(f[1], 10, 64)
		if st != 0 && procStartTime(pid) != st {
			return 0 // pid reused by someone else
		}
	}
	if !alive(pid) {
		return 0
	}
	return pid
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := lastIndexByte(string(b), ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// killShims kills "nodeagent container-init <spec under stateRoot>" processes.
func killShims(stateRoot string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) >= 3 && args[1] == "container-init" && strings.HasPrefix(args[2], stateRoot+"/") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func ourMounts(stateRoot string, foreign foreignSet) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if _, err := os.Lstat(mp); err != nil {
			continue // shadowed by a later mount on a parent: not reachable, not ours to fix
		}
		if strings.HasPrefix(mp, "/run/netns/") && foreign.netns[strings.TrimPrefix(mp, "/run/netns/")] {
			continue
		}
		if strings.HasPrefix(mp, "/run/netns/"+nodeNetnsPrefix) || strings.HasPrefix(mp, "/run/netns/"+podNetnsPrefix) ||
			(stateRoot != "" && (mp == stateRoot || strings.HasPrefix(mp, stateRoot+"/"))) {
			out = append(out, mp)
		}
	}
	return out
}

func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func unmountOurs(stateRoot string, foreign foreignSet) {
	mps := ourMounts(stateRoot, foreign)
	// Deepest first.
	for i := len(mps) - 1; i >= 0; i-- {
		if err := unix.Unmount(mps[i], unix.MNT_DETACH); err != nil {
			logf("umount %s: %v", mps[i], err)
		}
		if strings.HasPrefix(mps[i], "/run/netns/") {
			os.Remove(mps[i])
		}
	}
}
