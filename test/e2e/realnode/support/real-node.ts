// Test support for the real nodes of the local cluster (hack/realnode/up.sh, make cluster-up REAL_NODES=n):
// their env.json, images built here and pushed to the local registry, and the node's containerd read
// through CRI with the project's own client.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT, kubeconfigPath } from '../../../support/cluster.js';
import { CriConnection } from '../../../../src/cri/cri-connection.js';
import { parseCriEndpoint } from '../../../../src/cri/cri-endpoint.js';
import { CriImageService } from '../../../../src/cri/image-service.js';
import type { CriImage } from '../../../../src/cri/cri-api-proto.js';

const run = promisify(execFile);

export interface RealNode {
  name: string;
  /** Host path of the node's containerd socket. */
  criSocket: string;
  containerdDir: string;
  bridge: string;
  subnet: string;
  kubeletPort: number;
}

export interface RealNodeEnv {
  /** 127.0.0.1:<port> of the local registry (containerd mirrors docker.io to it too). */
  registry: string;
  pauseImage: string;
  nodes: RealNode[];
}

/** The cluster folder (CLUSTER_DIR, else the folder of the kubeconfig in use). */
export function clusterDir(): string {
  return process.env.CLUSTER_DIR ?? path.dirname(kubeconfigPath());
}

/** env.json of the real nodes; a clear error when the cluster has none. */
export function realNodeEnv(): RealNodeEnv {
  const file = path.join(clusterDir(), 'realnode', 'env.json');
  if (!fs.existsSync(file)) {
    throw new Error(`the local cluster has no real node (${file} is missing): start it with "make cluster-up REAL_NODES=1" (make test does)`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RealNodeEnv;
}

/** Node i of env.json; a clear error when the cluster has fewer real nodes. */
export function realNode(env: RealNodeEnv, i = 0): RealNode {
  const node = env.nodes[i];
  if (!node) throw new Error(`the local cluster has ${env.nodes.length} real node(s), the test needs ${i + 1}: start it with "make cluster-up REAL_NODES=${i + 1}"`);
  return node;
}

/** The pod IP pattern of the node's /24 ("10.200.51.0/24" -> /^10\.200\.51\.\d+$/). */
export function podIpPattern(node: RealNode): RegExp {
  const prefix = node.subnet.replace(/\.0\/24$/, '');
  return new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.\\d+$`);
}

const POLICY = '{"default": [{"type": "insecureAcceptAnything"}]}\n';

/**
 * Builds a one-layer image whose only program is the static busybox (/bin/sh, /bin/busybox) plus the
 * given text files, with hack/containerd/build-oci-image.sh, and pushes it to the local registry as
 * `<registry>/<repoTag>`. Returns the full reference.
 */
export async function pushBusyboxImage(registry: string, repoTag: string, files: Record<string, string> = {}): Promise<string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-realnode-img-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'tmp'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'sh'));
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(rootfs, name)), { recursive: true });
      fs.writeFileSync(path.join(rootfs, name), content);
    }
    fs.writeFileSync(path.join(work, 'policy.json'), POLICY);
    await run(path.join(ROOT, 'hack', 'containerd', 'build-oci-image.sh'), [path.join(work, 'layout'), 'img', rootfs, repoTag, '/bin/sh']);
    const ref = `${registry}/${repoTag}`;
    await run('skopeo', ['--policy', path.join(work, 'policy.json'), 'copy', '--quiet', '--dest-tls-verify=false', `oci:${path.join(work, 'layout')}:img`, `docker://${ref}`]);
    return ref;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Runs f with the node's containerd image service, over CRI with the project's own client. */
export async function withImageService<T>(node: RealNode, f: (images: CriImageService) => Promise<T>): Promise<T> {
  const parsed = parseCriEndpoint(`unix://${node.criSocket}`);
  if (!parsed.ok) throw new Error(`CRI socket of ${node.name}: ${parsed.error}`);
  const connection = new CriConnection(parsed.endpoint);
  try {
    return await f(new CriImageService(connection));
  } finally {
    connection.close();
  }
}

/** The images in the node's containerd, read through CRI (ListImages) with the project's client. */
export async function criImages(node: RealNode): Promise<CriImage[]> {
  return withImageService(node, (images) => images.listImages());
}

/** Whether the node's containerd has an image tagged `ref`. */
export async function nodeHasImage(node: RealNode, ref: string): Promise<boolean> {
  return (await criImages(node)).some((i) => i.repoTags.includes(ref));
}

/** hack/realnode/push-test-image.sh: busybox layer + one random layer per size (KiB); returns the reference. */
export async function pushTestImage(ref: string, layerKiB: number[] = []): Promise<string> {
  const { stdout } = await run(path.join(ROOT, 'hack', 'realnode', 'push-test-image.sh'), [ref, ...layerKiB.map(String)], { maxBuffer: 16 << 20 });
  return stdout.trim();
}

/** The chart's appVersion (the tag of the project's image). */
export function appVersion(): string {
  const chart = fs.readFileSync(path.join(ROOT, 'helm', 'kube-fledged', 'Chart.yaml'), 'utf8');
  const v = /^appVersion: *(\S+)$/m.exec(chart)?.[1];
  if (!v) throw new Error('helm/kube-fledged/Chart.yaml has no appVersion');
  return v;
}

/** The project's default image reference (docker.io/kubefledgedts/kube-fledged:<appVersion>). */
export function projectImage(): string {
  return `docker.io/kubefledgedts/kube-fledged:${appVersion()}`;
}

/**
 * Builds the project's image from the Dockerfile on the local base (make image IMAGE_BASE=local) and
 * pushes it to the local registry under its default name, so that the real node's containerd (which
 * mirrors docker.io to that registry) pulls exactly what the chart's defaults name.
 */
export async function buildAndPushProjectImage(registry: string): Promise<string> {
  const image = projectImage();
  await run(path.join(ROOT, 'hack', 'image', 'build.sh'), [], {
    env: { ...process.env, IMAGE: image, IMAGE_BASE: 'local', IMAGE_PUSH: `${registry}/${image.replace(/^docker\.io\//, '')}` },
    maxBuffer: 64 << 20,
    timeout: 900_000,
  });
  return image;
}

/** The local registry's log (JSON lines: the requests it served). */
export function registryLog(): string {
  return fs.readFileSync(path.join(clusterDir(), 'registry', 'logs', 'registry.log'), 'utf8');
}
