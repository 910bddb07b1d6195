// Command rcctl is a tiny kubectl stand-in used to check the node agent by hand through the
// real apiserver: create/get/delete pods, logs (follow), exec over SPDY or websocket.
//
//	rcctl -kubeconfig K create FILE.json
//	rcctl -kubeconfig K get NS/NAME
//	rcctl -kubeconfig K wait NS/NAME PHASE [TIMEOUT]
//	rcctl -kubeconfig K logs NS/NAME CONTAINER [follow]
//	rcctl -kubeconfig K exec spdy|ws NS/NAME CONTAINER -- CMD...
//	rcctl -kubeconfig K delete NS/NAME
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

func main() {
	kc := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: see source")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kc)
	must(err)
	cs, err := kubernetes.NewForConfig(cfg)
	must(err)
	ctx := context.Background()
	nsName := func(s string) (string, string) {
		ns, n, ok := strings.Cut(s, "/")
		if !ok {
			return "default", s
		}
		return ns, n
	}
	switch args[0] {
	case "create":
		b, err := os.ReadFile(args[1])
		must(err)
		var tm metav1.TypeMeta
		must(json.Unmarshal(b, &tm))
		if tm.Kind == "Job" {
			var j batchv1.Job
			must(json.Unmarshal(b, &j))
			got, err := cs.BatchV1().Jobs(j.Namespace).Create(ctx, &j, metav1.CreateOptions{})
			must(err)
			fmt.Println("job " + got.Namespace + "/" + got.Name)
			return
		}
		var p v1.Pod
		must(json.Unmarshal(b, &p))
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		got, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, &p, metav1.CreateOptions{})
		must(err)
		fmt.Println(got.Namespace + "/" + got.Name + " " + string(got.UID))
	case "podsof": // podsof NS LABELSELECTOR
		pods, err := cs.CoreV1().Pods(args[1]).List(ctx, metav1.ListOptions{LabelSelector: args[2]})
		must(err)
		for _, p := range pods.Items {
			fmt.Println(p.Namespace + "/" + p.Name)
		}
	case "get":
		ns, n := nsName(args[1])
		p, err := cs.CoreV1().Pods(ns).Get(ctx, n, metav1.GetOptions{})
		must(err)
		b, _ := json.MarshalIndent(map[string]any{"nodeName": p.Spec.NodeName, "status": p.Status}, "", "  ")
		fmt.Println(string(b))
	case "wait":
		ns, n := nsName(args[1])
		timeout := 60 * time.Second
		if len(args) > 3 {
			timeout, _ = time.ParseDuration(args[3])
		}
		end := time.Now().Add(timeout)
		for {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, n, metav1.GetOptions{})
			if err == nil && string(p.Status.Phase) == args[2] {
				fmt.Println(p.Status.Phase)
				return
			}
			if args[2] == "Gone" && err != nil {
				fmt.Println("Gone")
				return
			}
			if time.Now().After(end) {
				fmt.Fprintf(os.Stderr, "timeout, phase %v err %v\n", p.Status.Phase, err)
				os.Exit(1)
			}
			time.Sleep(300 * time.Millisecond)
		}
	case "logs":
		ns, n := nsName(args[1])
		opt := &v1.PodLogOptions{Container: args[2]}
		for _, a := range args[3:] {
			switch {
			case a == "follow":
				opt.Follow = true
			case a == "timestamps":
				opt.Timestamps = true
			case strings.HasPrefix(a, "tail="):
				var t int64
				fmt.Sscan(a[5:], &t)
				opt.TailLines = &t
			}
		}
		rc, err := cs.CoreV1().Pods(ns).GetLogs(n, opt).Stream(ctx)
		must(err)
		io.Copy(os.Stdout, rc)
	case "exec":
		mode := args[1]
		ns, n := nsName(args[2])
		ctr := args[3]
		cmd := args[5:]
		req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(n).SubResource("exec").
			VersionedParams(&v1.PodExecOptions{Container: ctr, Command: cmd, Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
		var ex remotecommand.Executor
		if strings.HasPrefix(mode, "kubelet-") {
			// Straight to the node's kubelet API (mode kubelet-ws|kubelet-spdy, NS/NAME@NODEIP).
			nodeIP := n[strings.Index(n, "@")+1:]
			n = n[:strings.Index(n, "@")]
			q := url.Values{"command": cmd, "input": {"1"}, "output": {"1"}, "error": {"1"}}
			u, _ := url.Parse(fmt.Sprintf("https://%s:10250/exec/%s/%s/%s?%s", nodeIP, ns, n, ctr, q.Encode()))
			kcfg := &rest.Config{Host: "https://" + nodeIP + ":10250", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
			if mode == "kubelet-ws4" {
				ex, err = remotecommand.NewWebSocketExecutorForProtocols(kcfg, "GET", u.String(), "v4.channel.k8s.io")
			} else if mode == "kubelet-ws" {
				ex, err = remotecommand.NewWebSocketExecutor(kcfg, "GET", u.String())
			} else {
				ex, err = remotecommand.NewSPDYExecutor(kcfg, "POST", u)
			}
		} else if mode == "ws" {
			ex, err = remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
		} else {
			ex, err = remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
		}
		must(err)
		err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
		var ce utilexec.ExitError
		if errors.As(err, &ce) {
			fmt.Fprintf(os.Stderr, "exit code %d\n", ce.ExitStatus())
			os.Exit(ce.ExitStatus())
		}
		must(err)
	case "events": // events NS/NAME
		ns, n := nsName(args[1])
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + n})
		must(err)
		for _, e := range evs.Items {
			fmt.Printf("%s %s %s: %s\n", e.Type, e.Reason, e.Source.Component, e.Message)
		}
	case "delete-nodes": // delete-nodes PREFIX
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		must(err)
		n := 0
		for _, nd := range nodes.Items {
			if strings.HasPrefix(nd.Name, args[1]) {
				must(cs.CoreV1().Nodes().Delete(ctx, nd.Name, metav1.DeleteOptions{}))
				n++
			}
		}
		fmt.Println("deleted", n)
	case "count-ready": // count-ready PREFIX
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		must(err)
		total, ready := 0, 0
		for _, nd := range nodes.Items {
			if !strings.HasPrefix(nd.Name, args[1]) {
				continue
			}
			total++
			for _, c := range nd.Status.Conditions {
				if c.Type == v1.NodeReady && c.Status == v1.ConditionTrue {
					ready++
				}
			}
		}
		fmt.Printf("%d nodes, %d ready\n", total, ready)
	case "delete-job":
		ns, n := nsName(args[1])
		bg := metav1.DeletePropagationBackground
		must(cs.BatchV1().Jobs(ns).Delete(ctx, n, metav1.DeleteOptions{PropagationPolicy: &bg}))
	case "delete":
		ns, n := nsName(args[1])
		must(cs.CoreV1().Pods(ns).Delete(ctx, n, metav1.DeleteOptions{}))
	default:
		fmt.Fprintln(os.Stderr, "unknown command")
		os.Exit(2)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
