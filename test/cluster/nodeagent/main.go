// Command nodeagent is the virtual node agent of the Retina Capture test cluster.
//
// It registers Nodes with a real kube-apiserver and runs the pods bound to them as local
// processes inside network namespaces (see ../CONTRACT.md). Subcommands:
//
//	run             one real node (netns, veth, pods as processes, kubelet API on :10250)
//	hollow          many hollow nodes in one process (scale tests, pods complete at once)
//	cleanup         remove every namespace, link, mount, process and dir the agent made
//	traffic         the "traffic image": steady HTTP + UDP between pods
//	container-init  internal: the per-container shim (mount ns, netns, bind mounts, logs)
package main

import (
	"fmt"
	"os"
)

func usage() {
	fmt.Fprintln(os.Stderr, `usage: nodeagent run|hollow|cleanup|traffic|container-init [flags]
see test/cluster/CONTRACT.md`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "run":
		err = cmdRun(args)
	case "hollow":
		err = cmdHollow(args)
	case "cleanup":
		err = cmdCleanup(args)
	case "traffic":
		err = cmdTraffic(args)
	case "container-init":
		err = cmdContainerInit(args)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "nodeagent: unknown command %q\n", os.Args[1])
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nodeagent %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
