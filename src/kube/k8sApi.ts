// The parts of the Kubernetes client the helper-pod door (src/kube/podExec.ts) uses: typed
// CoreV1 calls, Watch and Exec. A chunk of its own, loaded only for host-path downloads.
export { CoreV1Api, Exec, KubeConfig, Watch } from '@kubernetes/client-node';
