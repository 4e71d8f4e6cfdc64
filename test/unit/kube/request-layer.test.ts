import { expect } from 'chai';
import * as https from 'node:https';
import { CoreV1Api, HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { NotLeadingError, RequestLayer, requestPriority, withRequestLayer } from '../../../src/kube/request-layer.js';

type Answer = { code: number; retryAfter?: string };

function harness(opts: { maxElapsedMs?: number } = {}) {
  let t = 0;
  const slept: number[] = [];
  const layer = new RequestLayer({
    qps: 1000, burst: 1000,
    retry: { baseDelayMs: 100, maxDelayMs: 2000, maxElapsedMs: opts.maxElapsedMs ?? 30_000 },
    now: () => t,
    sleep: async (ms) => { slept.push(ms); t += ms; },
    random: () => 0.5, // no jitter
  });
  const run = (answers: (Answer | Error)[]) => {
    let calls = 0;
    const discarded: number[] = [];
    const p = layer.execute<Answer>(
      { method: 'GET', url: 'https://127.0.0.1:6443/api/v1/nodes' },
      async () => {
        const a = answers[Math.min(calls++, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return a;
      },
      (a) => a,
      async (a) => { discarded.push(a.code); return undefined; },
    );
    return { p, calls: () => calls, discarded };
  };
  return { layer, slept, run };
}

/** A kubeconfig for https://127.0.0.1:1 (nothing listens) with a token, and these cluster options. */
function localKc(cluster: { skipTLSVerify?: boolean; caData?: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', ...cluster }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('kube/request-layer', () => {
  it('retries 429 after the server\'s Retry-After, then returns the success', async () => {
    const h = harness();
    const r = h.run([{ code: 429, retryAfter: '1' }, { code: 429, retryAfter: '1' }, { code: 200 }]);
    expect(await r.p).to.deep.equal({ code: 200 });
    expect(r.calls()).to.equal(3);
    expect(h.slept).to.deep.equal([1000, 1000]);
    expect(r.discarded).to.deep.equal([429, 429]);
  });

  it('retries 5xx and refused/reset connections with exponential backoff', async () => {
    const h = harness();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const r = h.run([{ code: 503 }, refused, reset, { code: 500 }, { code: 201 }]);
    expect(await r.p).to.deep.equal({ code: 201 });
    expect(h.slept).to.deep.equal([100, 200, 400, 800]);
  });

  it('returns a 404, 409 or 422 answer at once and rethrows a non-transient error at once', async () => {
    for (const code of [404, 409, 422]) {
      const h = harness();
      const r = h.run([{ code }]);
      expect(await r.p).to.deep.equal({ code });
      expect(r.calls()).to.equal(1);
    }
    const h = harness();
    const r = h.run([new TypeError('bug')]);
    await r.p.then(() => expect.fail('resolved'), (err) => expect(err).to.be.instanceOf(TypeError));
    expect(r.calls()).to.equal(1);
  });

  it('gives up once retrying would pass maxElapsedMs: the last answer is returned', async () => {
    const h = harness({ maxElapsedMs: 1000 });
    const r = h.run([{ code: 503 }]);
    expect(await r.p).to.deep.equal({ code: 503 });
    expect(h.slept).to.deep.equal([100, 200, 400]); // 700 ms; the next (800) would pass 1000
    const none = harness({ maxElapsedMs: 0 }).run([{ code: 503 }, { code: 200 }]);
    expect(await none.p).to.deep.equal({ code: 503 });
  });

  it('a closed gate refuses the request before it is sent, with NotLeadingError', async () => {
    const h = harness();
    let sent = 0;
    const p = h.layer.execute<Answer>({ method: 'POST', url: 'u' }, async () => { sent++; return { code: 201 }; }, (a) => a, async () => undefined,
      ({ method }) => (method === 'POST' ? 'shutting down: no new Jobs' : undefined));
    await p.then(() => expect.fail('resolved'), (err) => {
      expect(err).to.be.instanceOf(NotLeadingError);
      expect((err as Error).message).to.equal('request not sent: shutting down: no new Jobs');
    });
    expect(sent).to.equal(0);
  });

  it('a gate that closes while the request waits for the rate limiter: refused, never sent (SIGTERM, a lost Lease)', async () => {
    // qps 1, burst 1: the second request waits ~1 s for its token; the gate closes meanwhile
    let release: (() => void) | undefined;
    const layer = new RequestLayer({ qps: 1, burst: 1, now: () => 0, sleep: () => new Promise<void>((r) => { release = r; }) });
    const term = { state: 'leading' };
    const gate = () => (term.state === 'leading' ? undefined : 'shutting down: no new Jobs');
    let sent = 0;
    const send = async () => { sent++; return { code: 201 }; };
    await layer.execute<Answer>({ method: 'POST', url: 'u' }, send, (a) => a, async () => undefined, gate);
    expect(sent).to.equal(1);
    const waiting = layer.execute<Answer>({ method: 'POST', url: 'u' }, send, (a) => a, async () => undefined, gate);
    await new Promise((r) => setImmediate(r));
    expect(release, 'the request waits for a token').to.be.a('function');
    term.state = 'draining';
    release!();
    await waiting.then(() => expect.fail('sent after the gate closed'), (err) => expect(err).to.be.instanceOf(NotLeadingError));
    expect(sent).to.equal(1);
  });

  it('a watch (re)connect waiting for the rate limiter is refused when the gate closes meanwhile', async () => {
    const kc = localKc({ skipTLSVerify: true });
    let release: (() => void) | undefined;
    const layered = withRequestLayer(kc, { qps: 1, burst: 1, now: () => 0, sleep: () => new Promise<void>((r) => { release = r; }) });
    let open = true;
    const gated = layered.withGate(() => (open ? undefined : 'this controller no longer leads'));
    await gated.applyToFetchOptions({});
    const waiting = gated.applyToFetchOptions({});
    await new Promise((r) => setImmediate(r));
    open = false;
    release!();
    await waiting.then(() => expect.fail('connected after the gate closed'), (err) => expect(err).to.be.instanceOf(NotLeadingError));
  });

  it('keepAlive: every request of the typed clients shares one keep-alive agent (no TLS handshake per request); without it, one agent each', async () => {
    const kc = localKc({ caData: Buffer.from('ca').toString('base64') });
    const agentOf = async (layered: ReturnType<typeof withRequestLayer>) => {
      const ctx = new RequestContext('https://127.0.0.1:1/api/v1/nodes', HttpMethod.GET);
      await layered.applySecurityAuthentication(ctx);
      return ctx.getAgent() as https.Agent;
    };
    const kept = withRequestLayer(kc, { qps: 5, burst: 5, keepAlive: true });
    const a = await agentOf(kept);
    expect(await agentOf(kept)).to.equal(a);
    expect(await agentOf(kept.withGate(() => undefined)), 'a gated copy shares the pool').to.equal(a);
    expect((a as https.Agent & { keepAlive?: boolean }).keepAlive).to.equal(true);
    expect(a.options.ca).to.deep.equal(Buffer.from('ca'));
    const plain = withRequestLayer(kc, { qps: 5, burst: 5 });
    expect(await agentOf(plain)).to.not.equal(await agentOf(plain));
    a.destroy();
  });

  it('typed clients of a gated LayeredKubeConfig go through the layer (refused without a request)', async () => {
    const kc = localKc({ skipTLSVerify: true });
    const layered = withRequestLayer(kc, { qps: 5, burst: 5 });
    expect(layered.getCurrentCluster()?.server).to.equal('https://127.0.0.1:1');
    const gated = layered.withGate(() => 'this controller no longer leads');
    expect(gated.requestLayer()).to.equal(layered.requestLayer());
    const core = gated.makeApiClient(CoreV1Api);
    await core.listNode().then(() => expect.fail('resolved'), (err) => expect(err).to.be.instanceOf(NotLeadingError));
    await gated.applyToFetchOptions({}).then(() => expect.fail('resolved'), (err) => expect(err).to.be.instanceOf(NotLeadingError));
  });

  it('Job deletes go at low priority; creates, status writes, reads, watches and other deletes at normal', () => {
    const base = 'https://127.0.0.1:6443';
    expect(requestPriority({ method: 'DELETE', url: `${base}/apis/batch/v1/namespaces/kf/jobs/ic-op1-abc?propagationPolicy=Background` })).to.equal('low');
    expect(requestPriority({ method: 'delete', url: `${base}/apis/batch/v1/namespaces/kf/jobs/ic-op1-abc` })).to.equal('low');
    for (const [method, url] of [
      ['POST', '/apis/batch/v1/namespaces/kf/jobs'],
      ['GET', '/apis/batch/v1/namespaces/kf/jobs/ic-op1-abc'],
      ['DELETE', '/apis/batch/v1/namespaces/kf/jobs'], // a collection delete is not the clean-up
      ['PATCH', '/apis/kubefledged.io/v1alpha2/namespaces/kf/imagecaches/ic/status'],
      ['DELETE', '/api/v1/namespaces/kf/pods/p'],
      ['GET', '/apis/batch/v1/jobs?labelSelector=app%3Dkubefledged&watch=true'],
    ] as const) expect(requestPriority({ method, url: `${base}${url}` }), `${method} ${url}`).to.equal('normal');
  });

  it('the layer asks its limiter for a token at the request\'s priority', async () => {
    const layer = new RequestLayer({ qps: 1000, burst: 1000 });
    const asked: string[] = [];
    layer.limiter.acquire = async (p = 'normal') => { asked.push(p); };
    const send = (method: string, url: string) => layer.execute({ method, url }, async () => ({ code: 200 }), (a) => a, async () => undefined);
    await send('DELETE', 'https://127.0.0.1:6443/apis/batch/v1/namespaces/kf/jobs/j1');
    await send('POST', 'https://127.0.0.1:6443/apis/batch/v1/namespaces/kf/jobs');
    expect(asked).to.deep.equal(['low', 'normal']);
  });

  describe('client limit', () => {
    const send = (layer: RequestLayer, apf: boolean | undefined, code = 200) =>
      layer.execute({ method: 'GET', url: 'https://127.0.0.1:6443/api/v1/nodes' }, async () => ({ code, apf }), (a) => a, async () => undefined);
    const logged = () => {
      const lines: string[] = [];
      return { lines, log: { warn: () => undefined, debug: () => undefined, info: (m: string) => lines.push(m) } };
    };

    it('auto: lifted once an answer carries the API Priority and Fairness header, back when one does not', async () => {
      const l = logged();
      const layer = new RequestLayer({ qps: 20, burst: 30, clientLimit: 'auto', log: l.log });
      expect(layer.limiter.isUnlimited()).to.equal(false); // limited until the server has said
      await send(layer, true);
      expect(layer.limiter.isUnlimited()).to.equal(true);
      await send(layer, true);
      await send(layer, undefined); // an error or a watch: no word either way
      await send(layer, false, 404); // an answer that is not a success may come from a proxy in front of the server
      await send(layer, false, 409);
      expect(layer.limiter.isUnlimited()).to.equal(true);
      await send(layer, false);
      expect(layer.limiter.isUnlimited()).to.equal(false);
      expect(l.lines).to.have.length(2);
      expect(l.lines[0]).to.match(/API Priority and Fairness: client-side rate limit lifted/);
      expect(l.lines[1]).to.match(/no API Priority and Fairness headers: client-side rate limit 20 qps, burst 30/);
    });

    it('limit: the header changes nothing; unlimited: lifted from the start', async () => {
      const limited = new RequestLayer({ qps: 20, burst: 30, clientLimit: 'limit' });
      await send(limited, true);
      expect(limited.limiter.isUnlimited()).to.equal(false);
      const byDefault = new RequestLayer({ qps: 20, burst: 30 });
      await send(byDefault, true);
      expect(byDefault.limiter.isUnlimited()).to.equal(false);
      const off = new RequestLayer({ qps: 20, burst: 30, clientLimit: 'unlimited' });
      expect(off.limiter.isUnlimited()).to.equal(true);
      await send(off, false);
      expect(off.limiter.isUnlimited()).to.equal(true);
    });

    it('the typed clients read the header from the real answer (a local server that sets it, then one that does not)', async () => {
      const http = await import('node:http');
      let withHeader = true;
      const server = http.createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        if (withHeader) res.setHeader('X-Kubernetes-PF-FlowSchema-UID', 'f0b3f0e6-0000-4000-8000-000000000001');
        res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as { port: number }).port;
        const kc = new KubeConfig();
        kc.loadFromOptions({
          clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u' }],
          contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
        });
        const layered = withRequestLayer(kc, { qps: 20, burst: 30, clientLimit: 'auto' });
        const core = layered.makeApiClient(CoreV1Api);
        await core.listNode();
        expect(layered.requestLayer().limiter.isUnlimited()).to.equal(true);
        withHeader = false;
        await core.listNode();
        expect(layered.requestLayer().limiter.isUnlimited()).to.equal(false);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });
});
