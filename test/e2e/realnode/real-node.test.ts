// A real node in the local cluster (make cluster-up REAL_NODES=1, hack/realnode/): its kubelet is Ready
// beside the kwok nodes, kwok does not manage it, and a pod pinned to it runs a real container: the
// image is pulled from the local registry into the node's containerd (seen through CRI), the container
// gets an IP on the node's bridge, writes its log through containerd, and reaches the API server at
// the "kubernetes" Service address.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { nodeHasImage, podIpPattern, pushBusyboxImage, realNode, realNodeEnv, type RealNode, type RealNodeEnv } from './support/real-node.js';

/** The container log the kubelet and containerd wrote (kubectl logs needs the node's address, which a loopback node has not). */
function containerLog(node: RealNode, namespace: string, pod: string, container: string): string {
  const podsDir = path.join(node.containerdDir, 'pod-logs');
  const podDir = fs.readdirSync(podsDir).find((d) => d.startsWith(`${namespace}_${pod}_`));
  if (!podDir) return '';
  const dir = path.join(podsDir, podDir, container);
  if (!fs.existsSync(dir)) return '';
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
}

describe('real node (e2e): a kubelet with containerd beside the kwok nodes', function () {
  this.timeout(300_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let env: RealNodeEnv;
  let node: RealNode;
  let ns = '';

  before(async () => {
    env = realNodeEnv();
    node = realNode(env);
    ns = await createNamespace(core, 'kf-realnode');
  });
  after(async () => {
    if (ns) await deleteNamespace(core, ns);
  });

  it('is Ready, runs containerd, is not a kwok node, and shares the cluster with the kwok nodes', async () => {
    const n = await core.readNode({ name: node.name });
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status, JSON.stringify(n.status?.conditions)).to.equal('True');
    expect(n.status?.nodeInfo?.containerRuntimeVersion).to.match(/^containerd:\/\/1\.\d+/);
    expect(n.status?.nodeInfo?.kubeletVersion).to.match(/^v1\.\d+\.\d+/);
    expect(n.metadata?.annotations ?? {}).not.to.have.property('kwok.x-k8s.io/node');
    expect(n.metadata?.labels?.['kubefledged.io/real-node']).to.equal('true');
    const kwokNodes = (await core.listNode({ labelSelector: 'type=kwok' })).items;
    expect(kwokNodes.length, 'kwok nodes beside the real one').to.be.greaterThan(0);
    expect(kwokNodes.map((k) => k.metadata?.name)).not.to.include(node.name);
  });

  it('runs a pod pinned to it in a real container: pulled through containerd, IP on the bridge, log, API server reachable', async () => {
    const marker = uniqueName('hello');
    const image = await pushBusyboxImage(env.registry, `kf-test/realnode-hello:${marker}`, { 'hello.txt': `${marker}\n` });
    expect(await nodeHasImage(node, image), 'image absent before the pod').to.equal(false);
    const pod = 'hello';
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: pod },
        spec: {
          nodeName: node.name,
          restartPolicy: 'Never',
          containers: [{
            name: 'main',
            image,
            command: ['/bin/sh', '-c', 'cat /hello.txt; printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 5 "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT"'],
          }],
        },
      },
    });
    const done = await eventually(`pod ${pod} Succeeded`, async () => {
      const p = await core.readNamespacedPod({ name: pod, namespace: ns });
      if (p.status?.phase === 'Failed') throw new Error(`pod failed: ${JSON.stringify(p.status)}`);
      return p.status?.phase === 'Succeeded' ? p : undefined;
    }, 120_000, 500);
    const status = done.status?.containerStatuses?.[0];
    expect(status?.containerID, 'a containerd container').to.match(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(status?.state?.terminated?.exitCode).to.equal(0);
    expect(status?.imageID).to.contain(`${env.registry}/kf-test/realnode-hello@sha256:`);
    expect(done.status?.podIP, `pod IP in ${node.subnet}`).to.match(podIpPattern(node));
    expect(await nodeHasImage(node, image), 'image in the node\'s containerd (CRI ListImages)').to.equal(true);
    const log = containerLog(node, ns, pod, 'main');
    expect(log).to.contain(marker);
    // the API server answered from 10.96.0.1:443 (DNAT on the node's bridge to 127.0.0.1)
    expect(log).to.contain('Client sent an HTTP request to an HTTPS server.');
  });
});
