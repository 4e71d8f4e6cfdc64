// Benchmark (the headline): seconds from pod create to Running on a real node for a pod whose image is
// at least 100 MB, with the image absent (the kubelet pulls it from the local registry) and with it
// cached beforehand by an ImageCache; plus the seconds from ImageCache create to the image present in
// the node's containerd (read through CRI). Every run pushes a fresh image (new random layers): removing
// an image through CRI leaves its unpacked snapshots in containerd, so pulling it again would fetch only
// its config. The registry's log proves each pull: the bytes of blobs it served during the run.
//   make cluster-up REAL_NODES=1 && npx tsx bench/pod-start.ts [--runs 5] [--layers-kib 56320,56320]
// Writes bench/results/pod-start.{json,md}; bench/pod-start-chart.ts draws bench/results/pod-start.png.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ROOT, adminKubeConfig, createNamespace, deleteNamespace, eventually, kubeconfigPath, uniqueName } from '../test/support/cluster.js';
import { ControllerProcess } from '../test/support/controller-process.js';
import { ImageCaches, ensureCrd } from '../test/support/imagecaches.js';
import { criImages, pushTestImage, realNode, realNodeEnv, registryLog, type RealNode } from '../test/e2e/realnode/support/real-node.js';
import { CriConnection } from '../src/cri/cri-connection.js';
import { parseCriEndpoint } from '../src/cri/cri-endpoint.js';
import { CriImageService } from '../src/cri/image-service.js';
import { Reason, Status } from '../src/api/constants.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export interface Summary { runs: number[]; median: number; min: number; max: number; iqr: [number, number] }

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { runs: values, median: q(0.5), min: s[0]!, max: s[s.length - 1]!, iqr: [q(0.25), q(0.75)] };
}

async function removeFromNode(node: RealNode, image: string): Promise<void> {
  const parsed = parseCriEndpoint(`unix://${node.criSocket}`);
  if (!parsed.ok) throw new Error(parsed.error);
  const connection = new CriConnection(parsed.endpoint);
  try {
    await new CriImageService(connection).removeImage(image);
  } finally {
    connection.close();
  }
  if ((await criImages(node)).some((i) => i.repoTags.includes(image))) throw new Error(`${image} still on ${node.name} after RemoveImage`);
}

/** Bytes of image blobs the local registry served (GET, as its JSON log records them) since `sinceMs`. */
function blobBytesServed(sinceMs: number): number {
  let total = 0;
  for (const line of registryLog().split('\n')) {
    if (!line.includes('"http.request.method":"GET"') || !line.includes('/blobs/sha256:')) continue;
    try {
      const entry = JSON.parse(line) as { time?: string; 'http.response.written'?: number };
      if (entry.time && Date.parse(entry.time) >= sinceMs) total += entry['http.response.written'] ?? 0;
    } catch {
      // not a JSON line
    }
  }
  return total;
}

/** Seconds from the pod's create call to phase Running (polled every 50 ms); deletes the pod after. */
async function podStart(core: k8s.CoreV1Api, ns: string, node: RealNode, image: string): Promise<number> {
  const name = uniqueName('start');
  const t0 = performance.now();
  await core.createNamespacedPod({ namespace: ns, body: {
    metadata: { name },
    spec: { nodeName: node.name, restartPolicy: 'Never', terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['/bin/sleep', '3600'] }] },
  } });
  const secs = await eventually(`pod ${name} Running`, async () => {
    const p = await core.readNamespacedPod({ name, namespace: ns });
    if (p.status?.phase === 'Failed') throw new Error(`pod ${name} failed: ${JSON.stringify(p.status)}`);
    return p.status?.phase === 'Running' ? (performance.now() - t0) / 1000 : undefined;
  }, 300_000, 50);
  await core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
  await eventually(`pod ${name} gone`, async () => {
    try { await core.readNamespacedPod({ name, namespace: ns }); return false; } catch { return true; }
  }, 120_000, 200);
  return secs;
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '5'));
  const layers = arg('layers-kib', '56320,56320').split(',').map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${arg('runs', '')}`);
  const env = realNodeEnv();
  const node = realNode(env);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const caches = new ImageCaches(kc);
  await ensureCrd();
  await pushTestImage(`${env.registry}/senthilrch/busybox:1.35.0`); // BUSYBOX_IMAGE's default, via the docker.io mirror
  const fresh = () => pushTestImage(`${env.registry}/kf-bench/pod-start:${uniqueName('b')}`, layers);
  const ns = await createNamespace(core, 'kf-bench-podstart');
  const ctrl = new ControllerProcess(kubeconfigPath(), ['--leader-elect=false', '--image-cache-refresh-frequency=0s',
    `--cri-socket-path=${node.criSocket}`, '--stderrthreshold=ERROR'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  const absent: number[] = [];
  const cached: number[] = [];
  const cacheToPresent: number[] = [];
  const cacheToSucceeded: number[] = [];
  const pulledAbsent: number[] = [];
  const pulledByCache: number[] = [];
  const pulledCachedStart: number[] = [];
  let sizeBytes = 0;
  try {
    await new Promise((r) => setTimeout(r, 3000)); // controller start-up is not part of any figure
    for (let i = 0; i < runs; i++) {
      let image = await fresh();
      let since = Date.now();
      absent.push(await podStart(core, ns, node, image));
      pulledAbsent.push(blobBytesServed(since));
      sizeBytes = (await criImages(node)).find((im) => im.repoTags.includes(image))?.size ?? sizeBytes;
      await removeFromNode(node, image);
      image = await fresh();
      since = Date.now();
      const cacheName = uniqueName('ic');
      const t0 = performance.now();
      await caches.create(ns, cacheName, { cacheSpec: [{ images: [image], nodeSelector: { 'kubefledged.io/real-node': 'true' } }] });
      cacheToPresent.push(await eventually('image present on the node', async () =>
        (await criImages(node)).some((im) => im.repoTags.includes(image)) ? (performance.now() - t0) / 1000 : undefined, 300_000, 50));
      const done = await caches.waitFinal(ns, cacheName, Reason.ImageCacheCreate, { timeoutMs: 300_000 });
      if (done.status?.status !== Status.Succeeded) throw new Error(`ImageCache ${cacheName}: ${JSON.stringify(done.status)}`);
      cacheToSucceeded.push((performance.now() - t0) / 1000);
      pulledByCache.push(blobBytesServed(since));
      since = Date.now();
      cached.push(await podStart(core, ns, node, image));
      pulledCachedStart.push(blobBytesServed(since));
      await caches.delete(ns, cacheName);
      await removeFromNode(node, image).catch(() => undefined);
      const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
      if (pulledAbsent.at(-1)! < 100e6 || pulledByCache.at(-1)! < 100e6) {
        throw new Error(`run ${i + 1}: the registry served only ${mb(pulledAbsent.at(-1)!)} (absent) / ${mb(pulledByCache.at(-1)!)} (ImageCache): not a full pull`);
      }
      console.error(`run ${i + 1}/${runs}: pulled ${mb(pulledAbsent.at(-1)!)} / ${mb(pulledByCache.at(-1)!)} / ${mb(pulledCachedStart.at(-1)!)};`
        + ` absent ${absent.at(-1)!.toFixed(2)} s, cached ${cached.at(-1)!.toFixed(2)} s, ImageCache -> present ${cacheToPresent.at(-1)!.toFixed(2)} s`);
    }
  } finally {
    await ctrl.stop();
    await deleteNamespace(core, ns);
  }
  const nodeObj = await core.readNode({ name: node.name });
  const cpus = os.cpus();
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
      kubelet: nodeObj.status?.nodeInfo?.kubeletVersion, runtime: nodeObj.status?.nodeInfo?.containerRuntimeVersion,
      registry: 'Debian docker-registry on 127.0.0.1 (plain HTTP)', snapshotter: 'overlayfs',
    },
    image: { reference: '<local registry>/kf-bench/pod-start:<fresh tag per run>', sizeBytes, layersKiB: [`busybox`, ...layers.map(String)] },
    runs,
    podStartAbsent: summarize(absent),
    podStartCached: summarize(cached),
    imageCacheCreateToPresent: summarize(cacheToPresent),
    imageCacheCreateToSucceeded: summarize(cacheToSucceeded),
    registryBytesServed: { podStartAbsent: pulledAbsent, imageCache: pulledByCache, podStartCached: pulledCachedStart },
  };
  const out = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'pod-start.json'), `${JSON.stringify(result, null, 2)}\n`);
  const f = (n: number) => n.toFixed(2);
  const row = (label: string, s: Summary) => `| ${label} | ${s.runs.length} | ${f(s.median)} | ${f(s.min)} – ${f(s.max)} | ${f(s.iqr[0])} – ${f(s.iqr[1])} | ${s.runs.map(f).join(', ')} |`;
  const md = [
    '# Pod start on a real node: image absent vs cached by an ImageCache',
    '',
    `Measured ${result.date} by \`npx tsx bench/pod-start.ts --runs ${runs}\` on the local cluster (\`make cluster-up REAL_NODES=1\`).`,
    `Image: ${(sizeBytes / 1e6).toFixed(1)} MB as containerd reports it (a static busybox layer + ${layers.length} layers of random bytes, ${layers.map((k) => `${k} KiB`).join(' + ')}), pulled from the local registry.`,
    'Pod: pinned to the node (`nodeName`, no scheduler), `imagePullPolicy: IfNotPresent`; seconds from the create call to `phase: Running` (polled every 50 ms).',
    'Every run uses a fresh image (new random layers; CRI RemoveImage leaves the unpacked layers in containerd, so a removed image would not be pulled again); "cached" runs first create an ImageCache for it and wait until it is Succeeded.',
    `Bytes the registry served (its log): pod start with the image absent ${result.registryBytesServed.podStartAbsent.map((b) => (b / 1e6).toFixed(0)).join(', ')} MB; the ImageCache's pull ${result.registryBytesServed.imageCache.map((b) => (b / 1e6).toFixed(0)).join(', ')} MB; pod start with the image cached ${result.registryBytesServed.podStartCached.map((b) => (b / 1e6).toFixed(1)).join(', ')} MB.`,
    '',
    '| seconds | runs | median | min – max | IQR | each run |',
    '|---|---|---|---|---|---|',
    row('pod create → Running, image absent', result.podStartAbsent),
    row('pod create → Running, image cached', result.podStartCached),
    row('ImageCache create → image in containerd', result.imageCacheCreateToPresent),
    row('ImageCache create → Succeeded', result.imageCacheCreateToSucceeded),
    '',
    `Machine: ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, Linux ${result.machine.kernel}; kubelet ${result.machine.kubelet}, ${result.machine.runtime} (${result.machine.snapshotter}); ${result.machine.registry}. The machine is shared with other work, so single runs vary.`,
    '',
    '![pod start](pod-start.png)',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'pod-start.md'), md);
  console.log(md);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
