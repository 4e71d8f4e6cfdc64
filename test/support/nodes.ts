// Test support: fake nodes on the local cluster (the same shapes as hack/add-node.sh).
import type * as k8s from '@kubernetes/client-node';

export interface FakeNodeOptions {
  labels?: Record<string, string>;
  taints?: k8s.V1Taint[];
  /** status.images names, as kubelet reports pulled images. */
  images?: string[];
  runtime?: string;
  /** kwok does not manage the node: never Ready, runs no pods. */
  notReady?: boolean;
}

export function fakeNode(name: string, opts: FakeNodeOptions = {}): k8s.V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: opts.notReady ? {} : { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...opts.labels,
      },
    },
    spec: { taints: opts.taints },
    status: {
      nodeInfo: {
        containerRuntimeVersion: opts.runtime ?? 'containerd://1.7.24',
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'v1.34.4',
        kubeProxyVersion: 'v1.34.4',
        kernelVersion: 'kwok',
        osImage: 'kwok',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
      images: opts.images?.map((n) => ({ names: [n], sizeBytes: 10_000_000 })),
      // the scheduler needs capacity even on nodes kwok does not manage (NotReady ones)
      capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
      allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
    },
  };
}
