package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMountpointRefcount(t *testing.T) {
	root := t.TempDir()
	store := &mountpointStore{dir: filepath.Join(root, "nodes")}
	podA := filepath.Join(store.dir, "n1", "pods", "a")
	podB := filepath.Join(store.dir, "n2", "pods", "b")
	os.MkdirAll(podA, 0o755)
	os.MkdirAll(podB, 0o755)
	target := filepath.Join(root, "host", "var", "run", "secrets")
	tlog := filepath.Join(root, "host", "dev", "termination-log")
	if err := store.ensure(podA, map[string]bool{target: false, tlog: true}); err != nil {
		t.Fatal(err)
	}
	if err := store.ensure(podB, map[string]bool{target: false}); err != nil {
		t.Fatal(err)
	}
	store.release(podA)
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("target removed while pod b needs it: %v", err)
	}
	if _, err := os.Stat(tlog); !os.IsNotExist(err) {
		t.Fatalf("termination-log not removed: %v", err)
	}
	store.release(podB)
	if _, err := os.Stat(filepath.Join(root, "host")); !os.IsNotExist(err) {
		t.Fatalf("created dirs left: %v", err)
	}
}
