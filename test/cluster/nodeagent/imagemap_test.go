package main

import (
	"reflect"
	"testing"
)

func TestImageLookupAndArgv(t *testing.T) {
	m := &imageMap{Images: []imageEntry{
		{Name: "retina-capture-worker", Entrypoint: []string{"/usr/bin/node", "/w.cjs"}},
		{Name: "busybox", Cmd: []string{"sh"}},
		{Name: "mcr.microsoft.com/cbl-mariner/busybox", Cmd: []string{"sh"}},
	}}
	cases := map[string]string{
		"retina-capture-worker":                     "retina-capture-worker",
		"localhost:5000/x/retina-capture-worker:v1": "retina-capture-worker",
		"docker.io/library/busybox:1.36":            "busybox",
		"busybox@sha256:abcd":                       "busybox",
		"mcr.microsoft.com/cbl-mariner/busybox:2.0": "busybox",
	}
	for ref, want := range cases {
		e, ok := m.lookup(ref)
		if !ok || e.Name != want && !(want == "busybox" && e.Name == "mcr.microsoft.com/cbl-mariner/busybox") {
			t.Errorf("lookup(%q) = %v,%v want %s", ref, e, ok, want)
		}
	}
	for _, ref := range []string{"nginx", "mybusybox", "busybox-extra:1"} {
		if _, ok := m.lookup(ref); ok {
			t.Errorf("lookup(%q) matched", ref)
		}
	}
	w, _ := m.lookup("retina-capture-worker")
	if got := w.argv(nil, []string{"--x"}); !reflect.DeepEqual(got, []string{"/usr/bin/node", "/w.cjs", "--x"}) {
		t.Errorf("argv args = %v", got)
	}
	b, _ := m.lookup("busybox")
	if got := b.argv(nil, nil); !reflect.DeepEqual(got, []string{"sh"}) {
		t.Errorf("argv default = %v", got)
	}
	if got := b.argv([]string{"echo"}, []string{"hi"}); !reflect.DeepEqual(got, []string{"echo", "hi"}) {
		t.Errorf("argv command = %v", got)
	}
	if got := b.argv([]string{"echo"}, nil); !reflect.DeepEqual(got, []string{"echo"}) {
		t.Errorf("argv command only = %v", got)
	}
}
