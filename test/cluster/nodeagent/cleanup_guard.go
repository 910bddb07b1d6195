package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Guard against cleaning up someone else's running cluster: several clusters (e.g. a
// hollow-only bench cluster next to the real-node one) may share the machine, and the names
// in the CONTRACT are machine-wide. Netns/veths of a live `nodeagent run` whose --state-dir is
// outside the state root being cleaned are left alone, and so are the bridge and the range
// route while any such agent lives.

type foreignSet struct {
	netns map[string]bool
	links map[string]bool
	ips   map[string]bool // node IPs of foreign agents (host routes via them stay)
	any   bool
}

func foreignAgents(stateRoot string) foreignSet {
	fs := foreignSet{netns: map[string]bool{}, links: map[string]bool{}, ips: map[string]bool{}}
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
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) < 2 || filepath.Base(args[0]) != "nodeagent" || args[1] != "run" {
			continue
		}
		stateDir, index := flagValue(args, "state-dir"), flagValue(args, "node-index")
		if stateDir == "" || index == "" {
			continue
		}
		if !filepath.IsAbs(stateDir) {
			if cwd, err := os.Readlink("/proc/" + p.Name() + "/cwd"); err == nil {
				stateDir = filepath.Join(cwd, stateDir)
			}
		}
		if stateRoot != "" && (stateDir == stateRoot || strings.HasPrefix(stateDir, stateRoot+"/")) {
			continue // ours: it gets stopped
		}
		fs.any = true
		fs.netns[nodeNetnsPrefix+index] = true
		fs.links["rcn"+index+"-h"] = true
		fs.ips[flagValue(args, "node-ip")] = true
		pods, _ := os.ReadDir(filepath.Join(stateDir, "pods"))
		for _, e := range pods {
			fs.netns[podNetnsName(e.Name())] = true
		}
	}
	return fs
}

// flagValue finds --name=value or --name value (one or two dashes).
func flagValue(args []string, name string) string {
	for i, a := range args {
		for _, p := range []string{"--" + name, "-" + name} {
			if strings.HasPrefix(a, p+"=") {
				return a[len(p)+1:]
			}
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return ""
}
