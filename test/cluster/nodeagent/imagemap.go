package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// imageEntry maps an image repository to a local command, like an image's ENTRYPOINT/CMD.
type imageEntry struct {
	Name       string   `json:"name"`
	Entrypoint []string `json:"entrypoint"`
	Cmd        []string `json:"cmd"`
}

type imageMap struct {
	Images []imageEntry `json:"images"`
}

func loadImageMap(path string) (*imageMap, error) {
	m := &imageMap{}
	if path == "" {
		return m, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// imageRepository strips digest, tag and registry host: "mcr.io:443/a/b:1@sha256:x" -> "a/b"
// is not what we want for matching "mcr.io/a/b" entries, so the registry is kept and the
// suffix rule in lookup handles both spellings.
func imageRepository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	// A tag is a ':' after the last '/', (a ':' before it is a registry port).
	if i := strings.LastIndex(ref, ":"); i >= 0 && i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// stripRegistry removes a leading registry host ("docker.io/library/busybox" -> "library/busybox").
func stripRegistry(repo string) string {
	parts := strings.SplitN(repo, "/", 2)
	if len(parts) == 2 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		return parts[1]
	}
	return repo
}

// lookup finds the entry for an image reference: the repository (registry host, tag and
// digest stripped) equals name or ends with "/name". Names that themselves carry a registry
// (mcr.microsoft.com/cbl-mariner/busybox) match the full repository too.
func (m *imageMap) lookup(ref string) (*imageEntry, bool) {
	full := imageRepository(ref)
	short := stripRegistry(full)
	for i := range m.Images {
		e := &m.Images[i]
		n := e.Name
		for _, r := range []string{full, short} {
			if r == n || strings.HasSuffix(r, "/"+n) {
				return e, true
			}
		}
	}
	return nil, false
}

// argv follows Docker: (command or entrypoint) + (args or cmd); when command is given the
// image's cmd is dropped.
func (e *imageEntry) argv(command, args []string) []string {
	var out []string
	if len(command) > 0 {
		out = append(out, command...)
		out = append(out, args...)
		return out
	}
	out = append(out, e.Entrypoint...)
	if len(args) > 0 {
		out = append(out, args...)
	} else {
		out = append(out, e.Cmd...)
	}
	return out
}

func imageNotInMapMessage(ref string) string {
	return fmt.Sprintf("image %q is not in the test cluster's image map", ref)
}
