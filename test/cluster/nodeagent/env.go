package main

import (
	"context"
	"fmt"
	"regexp"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var envRefRe = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$`)

// expandRefs implements $(VAR) expansion of env values, command and args ($$ escapes).
func expandRefs(s string, vars map[string]string) string {
	return envRefRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// containerEnv resolves env and envFrom like the kubelet (no service links: no services
// are routed in the test cluster). Order: envFrom first, then env overrides.
func containerEnv(ctx context.Context, cs kubernetes.Interface, pod *v1.Pod, c *v1.Container, podIP, hostIP string) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	ns := pod.Namespace
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ef.ConfigMapRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom configmap %q: %w", ef.ConfigMapRef.Name, err)
			}
			for k, v := range cm.Data {
				set(ef.Prefix+k, v)
			}
		case ef.SecretRef != nil:
			s, err := cs.CoreV1().Secrets(ns).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ef.SecretRef.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom secret %q: %w", ef.SecretRef.Name, err)
			}
			for k, v := range s.Data {
				set(ef.Prefix+k, string(v))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expandRefs(e.Value, vars))
			continue
		}
		vf := e.ValueFrom
		switch {
		case vf.FieldRef != nil:
			v, err := fieldRefValue(pod, vf.FieldRef.FieldPath, podIP, hostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			set(e.Name, v)
		case vf.SecretKeyRef != nil:
			r := vf.SecretKeyRef
			s, err := cs.CoreV1().Secrets(ns).Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(r.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: secret %q: %w", e.Name, r.Name, err)
			}
			v, ok := s.Data[r.Key]
			if !ok {
				if isOptional(r.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: secret %q has no key %q", e.Name, r.Name, r.Key)
			}
			set(e.Name, string(v))
		case vf.ConfigMapKeyRef != nil:
			r := vf.ConfigMapKeyRef
			cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(r.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: configmap %q: %w", e.Name, r.Name, err)
			}
			v, ok := cm.Data[r.Key]
			if !ok {
				if isOptional(r.Optional) {
					continue
				}
				return nil, nil, fmt.Errorf("env %s: configmap %q has no key %q", e.Name, r.Name, r.Key)
			}
			set(e.Name, v)
		case vf.ResourceFieldRef != nil:
			set(e.Name, "0")
		}
	}
	out := make([]string, 0, len(order)+2)
	// A minimal base environment, as an image would provide.
	if _, ok := vars["PATH"]; !ok {
		out = append(out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if _, ok := vars["HOSTNAME"]; !ok {
		h := pod.Name
		if pod.Spec.HostNetwork {
			h = pod.Spec.NodeName
		}
		out = append(out, "HOSTNAME="+h)
	}
	if _, ok := vars["HOME"]; !ok {
		out = append(out, "HOME=/root")
	}
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, vars, nil
}
