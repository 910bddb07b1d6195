package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	authv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Volumes are materialised as host directories (under the pod dir, or the node's root folder
// for hostPath) and bind-mounted into each container by container-init.

// volumeSource returns, per volume name, the host path that backs it.
type volumeSet map[string]string

type volumeBuilder struct {
	cs       kubernetes.Interface
	pod      *v1.Pod
	podDir   string
	nodeRoot string // <state-dir>/root: the per-node "/" for hostPath
	shared   string // <state>/nodes/shared-volumes: backing dirs of PersistentVolumes
	podIP    string
	hostIP   string
}

func (b *volumeBuilder) build(ctx context.Context) (volumeSet, error) {
	vs := volumeSet{}
	for _, vol := range b.pod.Spec.Volumes {
		p, err := b.one(ctx, vol)
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
		}
		vs[vol.Name] = p
	}
	return vs, nil
}

func (b *volumeBuilder) dir(name string) (string, error) {
	d := filepath.Join(b.podDir, "volumes", name)
	return d, os.MkdirAll(d, 0o755)
}

func (b *volumeBuilder) one(ctx context.Context, vol v1.Volume) (string, error) {
	switch {
	case vol.HostPath != nil:
		return b.hostPath(vol.HostPath)
	case vol.EmptyDir != nil:
		d, err := b.dir(vol.Name)
		if err == nil {
			os.Chmod(d, 0o777) // as kubelet: emptyDir is world-writable
		}
		return d, err
	case vol.Secret != nil, vol.ConfigMap != nil, vol.DownwardAPI != nil, vol.Projected != nil:
		d, err := b.dir(vol.Name)
		if err != nil {
			return "", err
		}
		files, err := b.files(ctx, vol)
		if err != nil {
			return "", err
		}
		return d, writeFiles(d, files)
	case vol.PersistentVolumeClaim != nil:
		return b.claim(ctx, vol.PersistentVolumeClaim.ClaimName)
	default:
		return "", fmt.Errorf("volume type not supported by the test cluster's node agent")
	}
}

// hostPath lives under the node's root folder, so nodes don't share (or touch) the real host.
func (b *volumeBuilder) hostPath(hp *v1.HostPathVolumeSource) (string, error) {
	p := filepath.Join(b.nodeRoot, filepath.Clean("/"+hp.Path))
	t := v1.HostPathUnset
	if hp.Type != nil {
		t = *hp.Type
	}
	fi, statErr := os.Stat(p)
	switch t {
	case v1.HostPathDirectoryOrCreate, v1.HostPathUnset:
		// Unset creates too: a container runtime creates missing bind sources as directories.
		if statErr != nil {
			return p, os.MkdirAll(p, 0o755)
		}
	case v1.HostPathDirectory:
		if statErr != nil || !fi.IsDir() {
			return "", fmt.Errorf("hostPath type check failed: %s is not a directory", hp.Path)
		}
	case v1.HostPathFileOrCreate:
		if statErr != nil {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", err
			}
			f.Close()
		}
	case v1.HostPathFile:
		if statErr != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("hostPath type check failed: %s is not a file", hp.Path)
		}
	default:
		if statErr != nil {
			return "", fmt.Errorf("hostPath type check failed: %s does not exist", hp.Path)
		}
	}
	return p, nil
}

type volFile struct {
	data []byte
	mode os.FileMode
}

func modeOr(m *int32, def int32) os.FileMode {
	if m != nil {
		return os.FileMode(*m)
	}
	return os.FileMode(def)
}

func (b *volumeBuilder) files(ctx context.Context, vol v1.Volume) (map[string]volFile, error) {
	out := map[string]volFile{}
	switch {
	case vol.Secret != nil:
		s := vol.Secret
		return out, b.secretFiles(ctx, out, s.SecretName, s.Items, s.Optional, modeOr(s.DefaultMode, 0o644))
	case vol.ConfigMap != nil:
		c := vol.ConfigMap
		return out, b.configMapFiles(ctx, out, c.Name, c.Items, c.Optional, modeOr(c.DefaultMode, 0o644))
	case vol.DownwardAPI != nil:
		return out, b.downwardFiles(out, vol.DownwardAPI.Items, modeOr(vol.DownwardAPI.DefaultMode, 0o644))
	case vol.Projected != nil:
		def := modeOr(vol.Projected.DefaultMode, 0o644)
		for _, src := range vol.Projected.Sources {
			var err error
			switch {
			case src.Secret != nil:
				err = b.secretFiles(ctx, out, src.Secret.Name, src.Secret.Items, src.Secret.Optional, def)
			case src.ConfigMap != nil:
				err = b.configMapFiles(ctx, out, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, def)
			case src.DownwardAPI != nil:
				err = b.downwardFiles(out, src.DownwardAPI.Items, def)
			case src.ServiceAccountToken != nil:
				err = b.tokenFile(ctx, out, src.ServiceAccountToken, def)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func isOptional(o *bool) bool { return o != nil && *o }

func keyFiles(out map[string]volFile, data map[string][]byte, items []v1.KeyToPath, def os.FileMode, kind, name string, optional bool) error {
	if len(items) == 0 {
		for k, v := range data {
			out[k] = volFile{v, def}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("%s %q has no key %q", kind, name, it.Key)
		}
		out[it.Path] = volFile{v, modeOr(it.Mode, int32(def))}
	}
	return nil
}

func (b *volumeBuilder) secretFiles(ctx context.Context, out map[string]volFile, name string, items []v1.KeyToPath, optional *bool, def os.FileMode) error {
	s, err := b.cs.CoreV1().Secrets(b.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) && isOptional(optional) {
			return nil
		}
		return fmt.Errorf("secret %q: %w", name, err)
	}
	return keyFiles(out, s.Data, items, def, "secret", name, isOptional(optional))
}

func (b *volumeBuilder) configMapFiles(ctx context.Context, out map[string]volFile, name string, items []v1.KeyToPath, optional *bool, def os.FileMode) error {
	c, err := b.cs.CoreV1().ConfigMaps(b.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) && isOptional(optional) {
			return nil
		}
		return fmt.Errorf("configmap %q: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range c.Data {
		data[k] = []byte(v)
	}
	for k, v := range c.BinaryData {
		data[k] = v
	}
	return keyFiles(out, data, items, def, "configmap", name, isOptional(optional))
}

func (b *volumeBuilder) downwardFiles(out map[string]volFile, items []v1.DownwardAPIVolumeFile, def os.FileMode) error {
	for _, it := range items {
		var val string
		switch {
		case it.FieldRef != nil:
			v, err := fieldRefValue(b.pod, it.FieldRef.FieldPath, b.podIP, b.hostIP)
			if err != nil {
				return err
			}
			val = v
		case it.ResourceFieldRef != nil:
			val = "0" // no resource accounting in the test cluster
		}
		out[it.Path] = volFile{[]byte(val), modeOr(it.Mode, int32(def))}
	}
	return nil
}

// tokenFile asks the TokenRequest API for a pod-bound token, as the kubelet does for the
// default kube-api-access volume (the Node authorizer allows it for pods on this node).
func (b *volumeBuilder) tokenFile(ctx context.Context, out map[string]volFile, src *v1.ServiceAccountTokenProjection, def os.FileMode) error {
	sa := b.pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(3607)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	tr := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: b.pod.Name, UID: b.pod.UID},
	}}
	if src.Audience != "" {
		tr.Spec.Audiences = []string{src.Audience}
	}
	res, err := b.cs.CoreV1().ServiceAccounts(b.pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for service account %q: %w", sa, err)
	}
	out[src.Path] = volFile{[]byte(res.Status.Token), def}
	return nil
}

func writeFiles(dir string, files map[string]volFile) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		clean := filepath.Clean("/" + n)
		p := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f := files[n]
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// fieldRefValue implements the fieldRef paths of the downward API (env and volume).
func fieldRefValue(pod *v1.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

func subscript(path, prefix string) (string, bool) {
	if !strings.HasPrefix(path, prefix+"['") || !strings.HasSuffix(path, "']") {
		return "", false
	}
	return path[len(prefix)+2 : len(path)-2], true
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k + "=" + strconv.Quote(m[k]) + "\n")
	}
	return sb.String()
}

// claim resolves a PVC to its bound PV. Every PV, whatever its source, is backed by one
// directory shared by all nodes (like an RWX file share): <nodes dir>/shared-volumes/<pv>.
func (b *volumeBuilder) claim(ctx context.Context, name string) (string, error) {
	pvc, err := b.cs.CoreV1().PersistentVolumeClaims(b.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("persistentVolumeClaim %q: %w", name, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != v1.ClaimBound {
		return "", fmt.Errorf("persistentVolumeClaim %q is not bound", name)
	}
	d := filepath.Join(b.shared, filepath.Base(pvc.Spec.VolumeName))
	if err := os.MkdirAll(d, 0o777); err != nil {
		return "", err
	}
	return d, nil
}
