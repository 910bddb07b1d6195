package main

import (
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// adminConfig loads the admin kubeconfig; the agent uses it to learn the server address and
// CA, and (hollow mode only) to watch all pods once instead of once per node.
func adminConfig(path string) (*rest.Config, error) {
	if path == "" {
		return nil, fmt.Errorf("--kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	if len(cfg.CAData) == 0 && cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.CAData = b
		cfg.CAFile = ""
	}
	return cfg, nil
}

// nodeConfig is the admin config's server with a freshly minted node client certificate.
func nodeConfig(admin *rest.Config, c *ca, node string, qps float32, burst int) (*rest.Config, error) {
	certPEM, keyPEM, err := c.nodeClientCert(node)
	if err != nil {
		return nil, err
	}
	caData := admin.CAData
	if len(caData) == 0 {
		caData = c.certPEM
	}
	return &rest.Config{
		Host: admin.Host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   caData,
			CertData: certPEM,
			KeyData:  keyPEM,
			Insecure: admin.Insecure,
		},
		UserAgent: "nodeagent/" + node,
		QPS:       qps,
		Burst:     burst,
	}, nil
}

func nodeClient(admin *rest.Config, c *ca, node string, qps float32, burst int) (kubernetes.Interface, error) {
	cfg, err := nodeConfig(admin, c, node, qps, burst)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
