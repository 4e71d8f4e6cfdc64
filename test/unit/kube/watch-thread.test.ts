// The watch thread's main side (src/kube/watch-thread.ts) without a server: which requests can be sent
// to the thread (a plain agent's TLS options cross the thread boundary, a proxy's agent does not), and
// an informer of a shape takes no transform or drop of its own. The thread on the real API server:
// test/integration/kube/watch-thread.test.ts.
import { expect } from 'chai';
import * as http from 'node:http';
import * as https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { restartingInformer } from '../../../src/kube/informers.js';
import { DROP_MANAGED_FIELDS } from '../../../src/kube/watch-line.js';
import { plainAgentOptions } from '../../../src/kube/watch-thread.js';
import { WATCH_THREAD_AUTO_NODES, watchThreadFor } from '../../../src/operator/controller.js';

describe('kube/watch-thread: what a request takes to the thread', () => {
  it('a plain https.Agent: its CA, client certificate, key and verification; nothing of its pooling', () => {
    const agent = new https.Agent({ ca: Buffer.from('CA'), cert: 'CERT', key: Buffer.from('KEY'), rejectUnauthorized: false, servername: 'api.example', keepAlive: true, maxSockets: 3 });
    try {
      expect(plainAgentOptions(agent)).to.deep.equal({ ca: Buffer.from('CA'), cert: 'CERT', key: Buffer.from('KEY'), rejectUnauthorized: false, servername: 'api.example' });
    } finally {
      agent.destroy();
    }
  });

  it('a plain http.Agent has no TLS options; no agent is none; any other agent (a proxy\'s) stays on the main thread', () => {
    const plain = new http.Agent();
    class ProxyAgent extends https.Agent {}
    const proxy = new ProxyAgent();
    try {
      expect(plainAgentOptions(plain)).to.deep.equal({});
      expect(plainAgentOptions(undefined)).to.equal(undefined);
      expect(plainAgentOptions(proxy)).to.equal(null);
    } finally {
      plain.destroy();
      proxy.destroy();
    }
  });

  it('an informer of a shape refuses a transform or drop of its own (the shape brings both)', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
    const base = { kc, path: '/api/v1/nodes', log, resource: 'nodes', onChange: () => undefined, shape: 'node' as const };
    expect(() => restartingInformer({ ...base, transform: (n) => n })).to.throw('a shape brings its own transform and drop');
    expect(() => restartingInformer({ ...base, drop: DROP_MANAGED_FIELDS })).to.throw('a shape brings its own transform and drop');
  });
});

describe('operator/controller: --watch-thread', () => {
  it('auto: on from 500 nodes listed at start-up; always and never whatever the cluster', () => {
    expect(WATCH_THREAD_AUTO_NODES).to.equal(500);
    expect(watchThreadFor('auto', 499)).to.equal(false);
    expect(watchThreadFor('auto', 500)).to.equal(true);
    expect(watchThreadFor('always', 0)).to.equal(true);
    expect(watchThreadFor('never', 100_000)).to.equal(false);
  });
});
