package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// The "traffic image": a server answering HTTP GETs and counting UDP datagrams, and a client
// sending both at a steady rate, so captures always have something to see.

func cmdTraffic(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: nodeagent traffic server|client [flags]")
	}
	fs := flag.NewFlagSet("traffic "+args[0], flag.ExitOnError)
	httpPort := fs.Int("http-port", 8080, "HTTP port")
	udpPort := fs.Int("udp-port", 9000, "UDP port")
	target := fs.String("target", "", "server IP (client)")
	rate := fs.Float64("rate", 20, "requests and datagrams per second, each (client)")
	fs.Parse(args[1:])
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	switch args[0] {
	case "server":
		return trafficServer(ctx, *httpPort, *udpPort)
	case "client":
		if *target == "" {
			return fmt.Errorf("--target is required")
		}
		if *rate <= 0 {
			*rate = 1
		}
		return trafficClient(ctx, *target, *httpPort, *udpPort, *rate)
	}
	return fmt.Errorf("unknown traffic mode %q", args[0])
}

func trafficServer(ctx context.Context, httpPort, udpPort int) error {
	host, _ := os.Hostname()
	var nHTTP, nUDP atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		nHTTP.Add(1)
		fmt.Fprintf(w, "ok %s %s\n", host, time.Now().UTC().Format(time.RFC3339Nano))
	})
	l, err := net.Listen("tcp", ":"+strconv.Itoa(httpPort))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	pc, err := net.ListenPacket("udp", ":"+strconv.Itoa(udpPort))
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			nUDP.Add(1)
			pc.WriteTo(buf[:n], addr) // echo, so both directions show up in a capture
		}
	}()
	fmt.Printf("traffic server: http :%d udp :%d\n", httpPort, udpPort)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			srv.Close()
			pc.Close()
			fmt.Printf("traffic server: stopping, http=%d udp=%d\n", nHTTP.Load(), nUDP.Load())
			return nil
		case <-t.C:
			fmt.Printf("traffic server: http=%d udp=%d\n", nHTTP.Load(), nUDP.Load())
		}
	}
}

func trafficClient(ctx context.Context, target string, httpPort, udpPort int, rate float64) error {
	url := "http://" + net.JoinHostPort(target, strconv.Itoa(httpPort)) + "/"
	client := &http.Client{Timeout: 2 * time.Second}
	udpConn, err := net.Dial("udp", net.JoinHostPort(target, strconv.Itoa(udpPort)))
	if err != nil {
		return err
	}
	defer udpConn.Close()
	var okHTTP, errHTTP, sentUDP int64
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	report := time.NewTicker(10 * time.Second)
	defer report.Stop()
	fmt.Printf("traffic client: -> %s (http %d, udp %d) at %.1f/s\n", target, httpPort, udpPort, rate)
	seq := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Printf("traffic client: stopping, http ok=%d err=%d udp=%d\n", okHTTP, errHTTP, sentUDP)
			return nil
		case <-report.C:
			fmt.Printf("traffic client: http ok=%d err=%d udp=%d\n", okHTTP, errHTTP, sentUDP)
		case <-tick.C:
			seq++
			if _, err := fmt.Fprintf(udpConn, "retina-capture-traffic seq=%d", seq); err == nil {
				sentUDP++
			}
			resp, err := client.Get(url)
			if err != nil {
				errHTTP++
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			okHTTP++
		}
	}
}
