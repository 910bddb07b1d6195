package main

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Bind mounts happen inside each container's private mount namespace, but their targets
// (mountPath, /dev/termination-log, ...) must exist on the shared host filesystem first.
// The agent creates missing targets, records them in a registry shared by all agents on the
// machine (nodes dir, flock'ed), and removes a created path only when no live pod of any node
// still needs it: removing a directory that is a mountpoint in another namespace would
// silently detach that container's mount.

const (
	mountpointRegistry = "created-mountpoints"
	podMountpointsFile = "mountpoints"
)

type mountpointStore struct {
	dir string // shared between all agents of one cluster: <state>/nodes
}

func (s *mountpointStore) lock() (func(), error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, ".mountpoints.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func appendLines(path string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	return err
}

// ensure makes every target exist (a file when isFile, else a directory) and records, in the
// pod's own list, all targets it needs and, in the shared registry, what was created.
func (s *mountpointStore) ensure(podDir string, targets map[string]bool) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var needed, created []string
	for target, isFile := range targets {
		target = filepath.Clean(target)
		needed = append(needed, target)
		// Walk down from the first existing ancestor, creating and recording each level.
		var missing []string
		for p := target; p != "/" && p != "."; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); err == nil {
				break
			}
			missing = append([]string{p}, missing...)
		}
		for i, p := range missing {
			if i == len(missing)-1 && isFile {
				f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
				if err != nil {
					return err
				}
				f.Close()
			} else if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
				return err
			}
			created = append(created, p)
		}
	}
	if err := appendLines(filepath.Join(podDir, podMountpointsFile), needed); err != nil {
		return err
	}
	return appendLines(filepath.Join(s.dir, mountpointRegistry), created)
}

// release forgets a pod's needs (its pod dir is about to go) and removes every created path
// nobody needs any more.
func (s *mountpointStore) release(podDir string) {
	unlock, err := s.lock()
	if err != nil {
		logf("mountpoints: %v", err)
		return
	}
	defer unlock()
	os.Remove(filepath.Join(podDir, podMountpointsFile))
	s.gcLocked()
}

func (s *mountpointStore) gcLocked() {
	var needed []string
	files, _ := filepath.Glob(filepath.Join(s.dir, "*", "pods", "*", podMountpointsFile))
	for _, f := range files {
		needed = append(needed, readLines(f)...)
	}
	reg := filepath.Join(s.dir, mountpointRegistry)
	created := readLines(reg)
	// Deepest first so parents are empty when their turn comes.
	sort.Slice(created, func(i, j int) bool { return len(created[i]) > len(created[j]) })
	var keep []string
	seen := map[string]bool{}
	for _, p := range created {
		if seen[p] {
			continue
		}
		seen[p] = true
		if isNeeded(p, needed) {
			keep = append(keep, p)
			continue
		}
		// Remove only empty dirs and empty files: never anything someone put there.
		if fi, err := os.Lstat(p); err == nil {
			if fi.IsDir() {
				if err := syscall.Rmdir(p); err != nil {
					keep = append(keep, p)
				}
			} else if fi.Mode().IsRegular() && fi.Size() == 0 {
				os.Remove(p)
			}
		}
	}
	if len(keep) == 0 {
		os.Remove(reg)
		return
	}
	os.WriteFile(reg, []byte(strings.Join(keep, "\n")+"\n"), 0o644)
}

func isNeeded(p string, needed []string) bool {
	for _, n := range needed {
		if n == p || strings.HasPrefix(n, p+"/") {
			return true
		}
	}
	return false
}
