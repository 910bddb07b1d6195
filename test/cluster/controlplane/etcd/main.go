// Command etcd is the etcd server built from the go.etcd.io/etcd/server/v3 module at the
// version k8s.io/kubernetes v1.36.3 uses for its etcd client (v3.6.8). Debian's etcd-server
// 3.4.23 lacks health endpoints Kubernetes >= 1.31 relies on. A separate module keeps
// etcd's dependency graph from clashing with the Kubernetes one.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
