// Command apiproxy relays TCP through a unix socket so a node agent started inside a
// throwaway network namespace (used to test `nodeagent cleanup` without touching a running
// cluster) can still reach the apiserver on the host's loopback.
//
//	apiproxy unix-to-tcp SOCK 127.0.0.1:26443   # host side
//	apiproxy tcp-to-unix 127.0.0.1:26443 SOCK   # inside the sandbox netns
package main

import (
	"io"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: apiproxy unix-to-tcp SOCK ADDR | tcp-to-unix ADDR SOCK")
	}
	var l net.Listener
	var err error
	var dialNet, dialAddr string
	switch os.Args[1] {
	case "unix-to-tcp":
		os.Remove(os.Args[2])
		l, err = net.Listen("unix", os.Args[2])
		dialNet, dialAddr = "tcp", os.Args[3]
	case "tcp-to-unix":
		l, err = net.Listen("tcp", os.Args[2])
		dialNet, dialAddr = "unix", os.Args[3]
	default:
		log.Fatal("bad mode")
	}
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			d, err := net.Dial(dialNet, dialAddr)
			if err != nil {
				return
			}
			defer d.Close()
			go io.Copy(d, c)
			io.Copy(c, d)
		}()
	}
}
