import { expect } from 'chai';
import { DROP_MANAGED_FIELDS, DROP_SPEC_AND_MANAGED_FIELDS, parseWatchLine, type DropTree } from '../../../src/kube/watch-line.js';
import { buildPullJob, type JobSettings } from '../../../src/jobs/job-factory.js';
import { planOperation } from '../../../src/planning/operation-plan.js';
import { operationProgress } from '../../../src/planning/operation-progress.js';
import type { ImageCache } from '../../../src/api/imagecache.js';

/** What parseWatchLine should give: the whole line parsed, then each path of `drop` that is there set to null. */
function reference(line: string, drop: DropTree): unknown {
  const out = JSON.parse(line) as unknown;
  const walk = (o: unknown, d: DropTree) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    const rec = o as Record<string, unknown>;
    for (const [k, rule] of Object.entries(d)) {
      if (!Object.prototype.hasOwnProperty.call(rec, k)) continue;
      if (rule === true) rec[k] = null;
      else walk(rec[k], rule);
    }
  };
  walk(out, drop);
  return out;
}

/** A small deterministic generator (the same cases on every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NASTY = ['', 'plain', 'with "quotes"', 'back\\slash', 'ends with \\', '\\"', '{"spec":1}', '[}{]', 'managedFields', 'tab\tnew\nline', 'é ü 日本 😀', '\u0000\u001f', ',"spec":{', 'null'];
const KEYS = ['spec', 'status', 'metadata', 'managedFields', 'object', 'type', 'name', 'labels', 'a', 'f:spec', 'spec ', 'Spec'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 3 || pick < 0.3) {
    const k = Math.floor(r() * 6);
    return [() => NASTY[Math.floor(r() * NASTY.length)], () => Math.floor(r() * 1e6) - 5e5, () => r() * 1e-3, () => true, () => false, () => null][k]!();
  }
  if (pick < 0.5) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth + 1);
  return o;
}

/** JSON.stringify with whitespace (pretty, or the separators spaced out) now and then: the walker must not care. */
function serialize(v: unknown, r: () => number): string {
  const x = r();
  if (x < 0.2) return JSON.stringify(v, null, 2);
  if (x < 0.3) return ` ${JSON.stringify(v).replace(/([{[,:])/g, '$1 ')} `;
  return JSON.stringify(v);
}

describe('kube/watch-line: a watch line parsed without the parts nobody reads', () => {
  const settings: JobSettings = {
    pullPolicy: 'IfNotPresent', serviceAccountName: '', jobPriorityClassName: '', imageDeleteJobHostNetwork: false,
    criSocketPath: '', criClientImage: 'cri', busyboxImage: 'bb', imagePullDeadlineMs: 300_000, deleteJobNamespace: '',
  };
  const cache: ImageCache = { metadata: { name: 'ic', namespace: 'ns', uid: 'u1' }, spec: { cacheSpec: [] } };

  function pullJob(images: string[]) {
    const node = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, status: { nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never } };
    const plan = planOperation({ type: 'create', cacheSpec: [{ images }], nodes: [node], pullPolicy: 'IfNotPresent' });
    const req = operationProgress({ plan, jobs: [], pods: [], now: 0, pullDeadlineMs: 300_000, startDeadlineMs: 120_000, maxImagesPerJob: 50, createBudget: Infinity, createFailures: new Map(), buildable: () => undefined }).create[0]!;
    return buildPullJob({ cache, operationId: 'op1', node: req.node, images: req.images }, settings);
  }

  it('a pod event of a 50-image pull Job: spec and managedFields are null, everything else is as JSON.parse gives it', () => {
    const job = pullJob(Array.from({ length: 50 }, (_, i) => `registry.example/team/app-${i}:v${i}`));
    const managedFields = [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': Object.fromEntries(job.spec!.template.spec!.containers.map((c) => [`k:{"name":"${c.name}"}`, { '.': {}, 'f:image': {} }])) } } }];
    const pod = {
      kind: 'Pod', apiVersion: 'v1',
      metadata: { name: 'p', namespace: 'ns', labels: job.spec!.template.metadata!.labels, managedFields, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'ju', controller: true }] },
      spec: job.spec!.template.spec,
      status: { phase: 'Running', containerStatuses: job.spec!.template.spec!.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2026-12-02T10:00:00Z' } } })) },
    };
    const line = JSON.stringify({ type: 'MODIFIED', object: pod });
    const got = parseWatchLine(line, DROP_SPEC_AND_MANAGED_FIELDS) as { type: string; object: typeof pod };
    expect(got).to.deep.equal(reference(line, DROP_SPEC_AND_MANAGED_FIELDS));
    expect(got.type).to.equal('MODIFIED');
    expect(got.object.spec).to.equal(null);
    expect(got.object.metadata.managedFields).to.equal(null);
    expect(got.object.metadata.labels).to.deep.equal(pod.metadata.labels);
    expect(got.object.status).to.deep.equal(pod.status);
    // the Job itself: its pod template is its spec
    const jobLine = JSON.stringify({ type: 'ADDED', object: { ...job, metadata: { ...job.metadata, managedFields } } });
    const gotJob = parseWatchLine(jobLine, DROP_SPEC_AND_MANAGED_FIELDS) as { object: { spec: unknown; metadata: { annotations: unknown } } };
    expect(gotJob).to.deep.equal(reference(jobLine, DROP_SPEC_AND_MANAGED_FIELDS));
    expect(gotJob.object.spec).to.equal(null);
    expect(gotJob.object.metadata.annotations).to.deep.equal(job.metadata!.annotations);
  });

  it('only the paths asked are dropped: a key of that name deeper down, in labels or in a string stays', () => {
    const obj = {
      type: 'ADDED',
      object: {
        metadata: { name: 'x', labels: { managedFields: 'label value', spec: 'y' }, annotations: { note: '"spec":{"a":1},"managedFields":[' } },
        spec: { nested: { spec: 1, managedFields: [1] } },
        status: { spec: 'kept', managedFields: 'kept' },
      },
      spec: 'top-level spec is not object.spec',
    };
    const line = JSON.stringify(obj);
    expect(parseWatchLine(line, DROP_SPEC_AND_MANAGED_FIELDS)).to.deep.equal({
      ...obj, object: { ...obj.object, spec: null },
    });
    // a node keeps its spec (taints), loses its managedFields
    const node = JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'n', managedFields: [{ manager: 'kwok' }] }, spec: { unschedulable: true } } });
    expect(parseWatchLine(node, DROP_MANAGED_FIELDS)).to.deep.equal({ type: 'MODIFIED', object: { metadata: { name: 'n', managedFields: null }, spec: { unschedulable: true } } });
  });

  it('ERROR and BOOKMARK events, objects without the paths, and a path whose value is not an object', () => {
    for (const ev of [
      { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 1 (2)', reason: 'Expired', code: 410 } },
      { type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '12345', annotations: { 'k8s.io/initial-events-end': 'true' } } } },
      { type: 'MODIFIED', object: { metadata: 'not an object', spec: [1, 2, { spec: 3 }] } },
      { type: 'MODIFIED', object: { metadata: { managedFields: null }, spec: null } },
      {},
    ]) {
      const line = JSON.stringify(ev);
      expect(parseWatchLine(line, DROP_SPEC_AND_MANAGED_FIELDS), line).to.deep.equal(reference(line, DROP_SPEC_AND_MANAGED_FIELDS));
    }
  });

  it('keys written with escapes are matched as JSON reads them, and a key seen twice is dropped each time (JSON.parse keeps the last)', () => {
    const line = '{"type":"ADDED","object":{"sp\\u0065c":{"a":1},"metadata":{"managed\\u0046ields":[{"x":"\\"]}"}],"name":"n"}}}';
    expect(parseWatchLine(line, DROP_SPEC_AND_MANAGED_FIELDS)).to.deep.equal({ type: 'ADDED', object: { spec: null, metadata: { managedFields: null, name: 'n' } } });
    const twice = '{"object":{"spec":{"a":1},"status":{},"spec":{"b":2}}}';
    expect(parseWatchLine(twice, DROP_SPEC_AND_MANAGED_FIELDS)).to.deep.equal({ object: { spec: null, status: {} } });
  });

  it('matches JSON.parse-then-drop on 3,000 generated lines (nasty strings, escapes, nesting, whitespace)', () => {
    const r = rng(20261202);
    const trees: DropTree[] = [DROP_SPEC_AND_MANAGED_FIELDS, DROP_MANAGED_FIELDS, { object: true }, { spec: true, object: { metadata: { labels: { a: true } } } }];
    for (let i = 0; i < 3000; i++) {
      const inner = randomValue(r, 1);
      const value = r() < 0.8 ? { type: 'MODIFIED', object: inner, ...(r() < 0.3 ? { spec: randomValue(r, 2) } : {}) } : randomValue(r, 0);
      const line = serialize(value, r);
      const tree = trees[i % trees.length]!;
      expect(parseWatchLine(line, tree), line).to.deep.equal(reference(line, tree));
    }
  });

  it('a line that is not JSON throws as JSON.parse does (the watch skips it), whatever part is broken', () => {
    for (const bad of ['', 'not json', '{"type":"ADDED","object":{"spec":{"a":1}', '{"object":{"spec":{"a":"unterminated}}}', '{"object":{"spec" {"a":1}}}', '{"a":1} trailing', '{"object":{"spec":{}}}}']) {
      expect(() => parseWatchLine(bad, DROP_SPEC_AND_MANAGED_FIELDS), bad).to.throw(SyntaxError);
    }
  });
});
