// Command etcd is the etcd server binary, built from go.etcd.io/etcd/server/v3 at the version
// that k8s.io/kubernetes pins, so the test bed's API server talks to the etcd it was built for.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
