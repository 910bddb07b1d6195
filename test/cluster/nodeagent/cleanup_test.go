package main

import "testing"

func TestFlagValue(t *testing.T) {
	args := []string{"/x/nodeagent", "run", "--node-index=3", "--state-dir", "/s/nodes/rc-node-3", "-log-file=f"}
	if got := flagValue(args, "node-index"); got != "3" {
		t.Errorf("node-index = %q", got)
	}
	if got := flagValue(args, "state-dir"); got != "/s/nodes/rc-node-3" {
		t.Errorf("state-dir = %q", got)
	}
	if got := flagValue(args, "log-file"); got != "f" {
		t.Errorf("log-file = %q", got)
	}
	if got := flagValue(args, "missing"); got != "" {
		t.Errorf("missing = %q", got)
	}
}

func TestShortUIDAndNames(t *testing.T) {
	uid := "3338b727-e07f-4959-87be-33286367a5b6"
	if podNetnsName(uid) != "rc-pod-3338b727" || podVethName(uid) != "veth3338b727" {
		t.Errorf("names: %s %s", podNetnsName(uid), podVethName(uid))
	}
}
