// The one part of the Kubernetes client a cluster connection needs at first: KubeConfig
// (kubeconfig parsing, exec plugins, client certs, proxies). Imported lazily through this
// module, with `sideEffects: false` for the client in webpack.config.cjs, so the chunk holds
// KubeConfig and what it uses rather than every API group and model of the client.
export { KubeConfig } from '@kubernetes/client-node';
