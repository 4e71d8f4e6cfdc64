// Benchmark: seconds from ImageCache create to Succeeded on N kwok nodes with an M-image cache, and the
// Jobs and pods it took. Compares this project's shape (one Job per node, a container per image) with the
// original's (one Job per image and node, emulated with --max-images-per-job=1).
//   make cluster-up && npx tsx bench/controller-scale.ts [--nodes 50] [--images 10]
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, kubeconfigPath, uniqueName } from '../test/support/cluster.js';
import { fakeNode } from '../test/support/nodes.js';
import { ControllerProcess } from '../test/support/controller-process.js';
import { ImageCaches, ensureCrd } from '../test/support/imagecaches.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const nodesWanted = arg('nodes', 50);
  const imagesWanted = arg('images', 10);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  await ensureCrd();
  const bench = uniqueName('bench');
  const sel = { 'kf-bench': bench };
  const names = Array.from({ length: nodesWanted }, (_, i) => `${bench}-${i}`);
  const rows: string[] = [];
  try {
    for (const n of names) await core.createNode({ body: fakeNode(n, { labels: sel }) });
    await eventually('bench nodes Ready', async () => {
      const list = (await core.listNode({ labelSelector: `kf-bench=${bench}` })).items;
      return list.length === nodesWanted && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 180_000, 1000);
    const images = Array.from({ length: imagesWanted }, (_, i) => `registry.example/bench-${i}:1.0`);
    for (const [label, perJob] of [['one Job per node (this project)', 50], ['one Job per image and node (original shape)', 1]] as const) {
      const ns = await createNamespace(core, 'kf-bench');
      const ctrl = new ControllerProcess(kubeconfigPath(), ['--leader-elect=false', '--image-cache-refresh-frequency=0s',
        '--job-retention-policy=retain', `--max-images-per-job=${perJob}`, '--stderrthreshold=ERROR']).start();
      try {
        await new Promise((r) => setTimeout(r, 3000)); // controller start-up is not part of the figure
        const t0 = Date.now();
        await ics.create(ns, 'bench', { cacheSpec: [{ images, nodeSelector: sel }] });
        const c = await ics.waitFinal(ns, 'bench', 'ImageCacheCreate', { timeoutMs: 600_000 });
        const seconds = (Date.now() - t0) / 1000;
        const jobList = (await batch.listNamespacedJob({ namespace: ns })).items;
        const jobs = jobList.length;
        const pairs = new Map<string, number>();
        for (const j of jobList) {
          const work = JSON.parse(j.metadata?.annotations?.['kubefledged.io/work'] ?? '{}') as { node?: string; containers?: Record<string, string[]> };
          for (const imgs of Object.values(work.containers ?? {})) for (const i of imgs) pairs.set(`${work.node}|${i}`, (pairs.get(`${work.node}|${i}`) ?? 0) + 1);
        }
        const duplicates = [...pairs.values()].filter((v) => v > 1).length;
        if (duplicates > 0) console.error(`${label}: ${duplicates} (node, image) pairs got more than one Job; operations: ${[...new Set(jobList.map((j) => j.metadata?.labels?.['kubefledged.io/operation']))].join(',')}`);
        const pods = (await core.listNamespacedPod({ namespace: ns })).items.length;
        rows.push(`| ${label} | ${nodesWanted} | ${imagesWanted} | ${c.status!.status} | ${seconds.toFixed(1)} | ${jobs} | ${pods} |`);
      } finally {
        await ctrl.stop();
        await deleteNamespace(core, ns, true);
      }
    }
  } finally {
    for (const n of names) await core.deleteNode({ name: n }).catch(() => undefined);
  }
  console.log('| shape | nodes | images | status | seconds create -> final | Jobs | pods |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
