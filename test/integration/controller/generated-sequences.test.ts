// Generated-input test: random sequences of spec edits, refresh/purge annotations, node joins, leaves,
// label changes and image-list (node.status.images) changes against caches on kwok nodes. After each
// sequence the cache must reach a final status within its deadline, that status must be true of the
// cluster as it is then, and no Job may be left. KF_GEN_SEQUENCES (default 8) and KF_GEN_SEED set the run.
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, eventually, uniqueName } from '../../support/cluster.js';
import { fakeNode } from '../../support/nodes.js';
import { ControllerProcess, serviceAccountKubeconfig } from '../../support/controller-process.js';
import { ImageCaches, ensureCrd } from '../../support/imagecaches.js';
import { Message } from '../../../src/api/constants.js';
import type { ImageCache } from '../../../src/api/imagecache.js';
import { DELETE_DEFER_MAX_MS } from '../../../src/reconcilers/operation-runner.js';

const POOL = ['registry.example/a:1', 'registry.example/b:1', 'registry.example/c:1', 'registry.example/d:1', 'fail.invalid/f:1'];
const DEADLINE_S = 20;
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('ImageCache controller: generated sequences of edits, annotations and node changes', function () {
  this.timeout(600_000);
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const ics = new ImageCaches(kc);
  const suite = uniqueName('gen');
  const sequences = Number(process.env.KF_GEN_SEQUENCES ?? 8);
  let seed = Number(process.env.KF_GEN_SEED ?? Date.now() % 100_000);
  const firstSeed = seed;
  const rnd = (n: number) => { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296 * n) | 0;
  };
  const shared = Array.from({ length: 10 }, (_, i) => `${suite}-n${i}`);
  const created = new Set<string>(shared);
  let ns: string;
  let sa: { file: string; cleanup: () => Promise<void> };
  let ctrl: ControllerProcess;
  let actions = 0;

  before(async () => {
    await ensureCrd();
    ns = await createNamespace(core, 'kf-gen');
    const allKeys = Object.fromEntries(Array.from({ length: sequences }, (_, i) => [`gen-${i}`, 'in']));
    for (const n of shared) await core.createNode({ body: fakeNode(n, { labels: { 'kf-gen': suite, ...allKeys }, images: rnd(2) ? [POOL[rnd(4)]!] : [] }) });
    await eventually('nodes Ready', async () => {
      const list = (await core.listNode({ labelSelector: `kf-gen=${suite}` })).items;
      return list.length === shared.length && list.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 60_000);
    sa = await serviceAccountKubeconfig(kc, ns);
    ctrl = new ControllerProcess(sa.file, ['-v=4', '--leader-elect=false', '--image-cache-refresh-frequency=0s',
      `--image-pull-deadline-duration=${DEADLINE_S}s`, '--pod-start-deadline-duration=15s', '--max-images-per-job=2'], { KUBEFLEDGED_NAMESPACE: ns }).start();
  });

  after(async function () {
    if (this.currentTest?.state === 'failed' || process.env.KF_TEST_LOGS) console.log(ctrl?.dump());
    await ctrl?.stop();
    await sa?.cleanup();
    await deleteNamespace(core, ns);
    for (const n of created) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  const pick = () => { const imgs = POOL.filter(() => rnd(2) === 0); return imgs.length ? imgs : [POOL[rnd(POOL.length)]!]; };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function runSequence(i: number): Promise<string[]> {
    const key = `gen-${i}`;
    const name = `seq-${i}`;
    const sel = { [key]: 'in' };
    const own: string[] = [];
    const log: string[] = [];
    await ics.create(ns, name, { cacheSpec: [{ images: pick(), nodeSelector: sel }] });
    const steps = 3 + rnd(4);
    for (let s = 0; s < steps; s++) {
      await sleep(rnd(1500));
      const node = shared[rnd(shared.length)]!;
      switch (rnd(8)) {
        case 0: case 1: {
          const images = pick();
          log.push(`edit ${images.join(',')}`);
          await ics.setImages(ns, name, [{ images, nodeSelector: sel }]);
          break;
        }
        case 2: log.push('refresh'); await ics.annotate(ns, name, 'kubefledged.io/refresh-imagecache'); break;
        case 3: log.push('purge'); await ics.annotate(ns, name, 'kubefledged.io/purge-imagecache'); break;
        case 4: {
          const n = `${suite}-s${i}-${s}`;
          own.push(n); created.add(n);
          log.push(`join ${n}`);
          await core.createNode({ body: fakeNode(n, { labels: { 'kf-gen': suite, ...sel } }) });
          break;
        }
        case 5: {
          const n = own.pop();
          if (n) { log.push(`leave ${n}`); await core.deleteNode({ name: n }).catch(() => undefined); }
          break;
        }
        case 6: {
          const value = rnd(2) ? 'in' : 'out';
          log.push(`label ${node} ${key}=${value}`);
          await core.patchNode({ name: node, body: { metadata: { labels: { [key]: value } } } }, merge);
          break;
        }
        default: {
          log.push(`images ${node}`);
          await core.patchNodeStatus({ name: node, body: { status: { images: rnd(2) ? [] : [{ names: [POOL[rnd(4)]!], sizeBytes: 1 }] } } }, merge).catch(() => undefined);
        }
      }
      actions += 1;
    }
    // settle: final status, nothing asked for left undone
    const started = Date.now();
    const c = await eventually(`${name} settled after [${log.join('; ')}]`, async () => {
      const x = await ics.get(ns, name);
      const a = x.metadata.annotations ?? {};
      const done = x.status && x.status.status !== 'Processing' && x.status.observedGeneration === x.metadata.generation
        && !('kubefledged.io/refresh-imagecache' in a) && !('kubefledged.io/purge-imagecache' in a);
      return done ? x : undefined;
    }, 180_000, 500);
    await checkTruth(c, sel, log);
    // a finished operation's Jobs wait while the other sequences' operations run (DELETE_DEFER_MAX_MS at most)
    await eventually(`no Job left for ${name}`, async () =>
      (await batch.listNamespacedJob({ namespace: ns, labelSelector: `imagecache=${name}` })).items.length === 0, DELETE_DEFER_MAX_MS + 30_000, 500);
    log.push(`settled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return log;
  }

  /** The final status must be true of the cluster as it is now. */
  async function checkTruth(c: ImageCache, sel: Record<string, string>, log: string[]): Promise<void> {
    const what = `[${log.join('; ')}] -> ${JSON.stringify(c.status)}`;
    const st = c.status!;
    const took = (new Date(st.completionTime!).getTime() - new Date(st.startTime).getTime()) / 1000;
    // an operation ends by its last Job's creation + the pull deadline: work added mid-way (a node
    // labelled in, an image gone from a node) may start one more Job late; plus reconcile latency
    expect(took, `operation outlived its deadline: ${what}`).to.be.at.most(2 * DEADLINE_S + 15);
    const matching = (await core.listNode({ labelSelector: Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') })).items
      .filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
      .map((n) => n.metadata!.labels!['kubernetes.io/hostname']!);
    const failures = st.failures ?? {};
    for (const [image, list] of Object.entries(failures)) {
      for (const f of list) expect(matching, `failure on a node that is not selected: ${what}`).to.include(f.node);
      expect(c.spec.cacheSpec[0]!.images, `failure for an image not in the spec: ${what}`).to.include(image);
    }
    if (st.reason === 'ImageCachePurge') {
      expect(st.status, what).to.be.oneOf(['Succeeded', 'NoImagesPulledOrDeleted']);
      return;
    }
    if (matching.length === 0) return; // a selector left with no node: NoImages (true) or earlier results
    const spec = c.spec.cacheSpec[0]!.images;
    for (const image of spec) {
      const failed = (failures[image] ?? []).map((f) => f.node).sort();
      if (image.startsWith('fail.invalid/')) {
        // it fails wherever it is pulled; a node that only got what it was missing may have been skipped
        expect(st.status, `a failing image reported as fine: ${what}`).to.equal('Failed');
        expect(failed.length, `no failure for ${image}: ${what}`).to.be.greaterThan(0);
      } else {
        expect(failed, `${image} reported failed: ${what}`).to.deep.equal([]);
      }
    }
    if (!spec.some((i) => i.startsWith('fail.invalid/'))) {
      expect(st.status, what).to.equal('Succeeded');
      expect(st.message, what).to.equal(Message.ImagesPulledSuccessfully);
    }
  }

  it(`runs ${sequences} random sequences at once; each ends with a true final status within its deadline and no Job left`, async () => {
    const logs = await Promise.all(Array.from({ length: sequences }, (_, i) => runSequence(i)));
    console.log(`      generated: ${sequences} sequences, ${actions} actions, seed ${firstSeed}`);
    for (const [i, l] of logs.entries()) console.log(`        seq-${i}: ${l.join('; ')}`);
  });
});
