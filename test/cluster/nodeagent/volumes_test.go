package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestVolumesAndEnv(t *testing.T) {
	cs := fake.NewSimpleClientset(
		&v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"blob-upload-url": []byte("https://x")}},
		&v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "ns"}, Data: map[string]string{"ca.crt": "CA"}},
		&v1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
			Spec: v1.PersistentVolumeClaimSpec{VolumeName: "pv1"}, Status: v1.PersistentVolumeClaimStatus{Phase: v1.ClaimBound}},
	)
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authv1.TokenRequest{Status: authv1.TokenRequestStatus{Token: "TOKEN"}}, nil
	})
	mode := int32(0o400)
	dirType := v1.HostPathDirectory
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Labels: map[string]string{"a": "b"}},
		Spec: v1.PodSpec{NodeName: "rc-node-1", ServiceAccountName: "default", Volumes: []v1.Volume{
			{Name: "sec", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}}},
			{Name: "api", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
				{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token"}},
				{ConfigMap: &v1.ConfigMapProjection{LocalObjectReference: v1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items: []v1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				{DownwardAPI: &v1.DownwardAPIProjection{Items: []v1.DownwardAPIVolumeFile{
					{Path: "namespace", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
			}}}},
			{Name: "hp", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/var/log/x"}}},
			{Name: "pvc", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
		}},
	}
	dir := t.TempDir()
	b := &volumeBuilder{cs: cs, pod: pod, podDir: filepath.Join(dir, "pod"), nodeRoot: filepath.Join(dir, "root"),
		shared: filepath.Join(dir, "shared"), podIP: "198.19.0.2", hostIP: "198.18.0.11"}
	vs, err := b.build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := func(path, want string, wantMode os.FileMode) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
		if fi, err := os.Stat(path); err == nil && wantMode != 0 && fi.Mode().Perm() != wantMode {
			t.Errorf("%s mode %v want %v", path, fi.Mode().Perm(), wantMode)
		}
	}
	check(filepath.Join(vs["sec"], "blob-upload-url"), "https://x", 0o400)
	check(filepath.Join(vs["api"], "token"), "TOKEN", 0o644)
	check(filepath.Join(vs["api"], "ca.crt"), "CA", 0)
	check(filepath.Join(vs["api"], "namespace"), "ns", 0)
	if vs["hp"] != filepath.Join(dir, "root", "var", "log", "x") {
		t.Errorf("hostPath = %s", vs["hp"])
	}
	if vs["pvc"] != filepath.Join(dir, "shared", "pv1") {
		t.Errorf("pvc = %s", vs["pvc"])
	}

	// Directory that does not exist: a clear error.
	pod.Spec.Volumes = []v1.Volume{{Name: "d", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/nope", Type: &dirType}}}}
	if _, err := b.build(context.Background()); err == nil {
		t.Error("missing Directory hostPath accepted")
	}

	c := &v1.Container{Env: []v1.EnvVar{
		{Name: "A", Value: "x"},
		{Name: "B", Value: "$(A)-$$(A)"},
		{Name: "NODE", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "URL", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "s"}, Key: "blob-upload-url"}}},
	}}
	_, vars, err := containerEnv(context.Background(), cs, pod, c, "198.19.0.2", "198.18.0.11")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"B": "x-$(A)", "NODE": "rc-node-1", "IP": "198.19.0.2", "URL": "https://x"} {
		if vars[k] != want {
			t.Errorf("env %s = %q want %q", k, vars[k], want)
		}
	}
}
