import { expect } from 'chai';
import * as http from 'node:http';
import * as net from 'node:net';
import { Registry } from 'prom-client';
import { parseBindAddress, startHealthServer, type HealthServer, type Probe } from '../../../src/operator/health-server.js';
import { createControllerMetrics } from '../../../src/operator/metrics.js';

function request(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('operator/metrics and operator/health-server', () => {
  describe('createControllerMetrics', () => {
    it('registers every kubefledged metric plus the default process metrics on its own registry', async () => {
      const m = createControllerMetrics();
      m.reconcileTotal.inc({ operation: 'create', result: 'Succeeded' });
      m.reconcileDuration.observe({ operation: 'create' }, 0.2);
      m.workqueueDepth.set(3);
      m.workqueueRetries.inc();
      m.watchRestarts.inc({ resource: 'nodes' });
      m.jobsCreated.inc({ kind: 'pull' }, 2);
      m.imageResults.inc({ action: 'pull', result: 'failed' });
      m.operationsInProgress.set(1);
      m.leader.set(1);
      const text = await m.registry.metrics();
      for (const line of [
        'kubefledged_reconcile_total{operation="create",result="Succeeded"} 1',
        'kubefledged_reconcile_duration_seconds_count{operation="create"} 1',
        'kubefledged_workqueue_depth 3',
        'kubefledged_workqueue_retries_total 1',
        'kubefledged_watch_restarts_total{resource="nodes"} 1',
        'kubefledged_jobs_created_total{kind="pull"} 2',
        'kubefledged_image_results_total{action="pull",result="failed"} 1',
        'kubefledged_imagecache_operations_in_progress 1',
        'kubefledged_leader 1',
        'process_cpu_user_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(text).to.include(line);
      }
    });

    it('two instances never clash (no global registry)', () => {
      createControllerMetrics();
      expect(() => createControllerMetrics()).not.to.throw();
    });

    it('can skip the default metrics', async () => {
      const m = createControllerMetrics({ registry: new Registry(), defaultMetrics: false });
      expect(await m.registry.metrics()).not.to.include('process_cpu');
    });
  });

  describe('parseBindAddress', () => {
    it('accepts the usual forms', () => {
      expect(parseBindAddress(':8080')).to.deep.equal({ host: undefined, port: 8080 });
      expect(parseBindAddress('127.0.0.1:0')).to.deep.equal({ host: '127.0.0.1', port: 0 });
      expect(parseBindAddress('[::1]:9090')).to.deep.equal({ host: '::1', port: 9090 });
      expect(parseBindAddress('localhost:80')).to.deep.equal({ host: 'localhost', port: 80 });
    });
    it('rejects the rest with an example', () => {
      for (const bad of ['8080', '0', ':70000', '::1:80', 'host:', '']) {
        expect(() => parseBindAddress(bad), bad).to.throw(/invalid bind address .* use "\[host\]:port"/);
      }
    });
  });

  describe('startHealthServer', () => {
    let server: HealthServer;
    let ready: ReturnType<Probe>;
    let healthy: ReturnType<Probe> | 'throw';
    const metrics = createControllerMetrics();

    beforeEach(async () => {
      ready = true;
      healthy = true;
      server = await startHealthServer({
        bindAddress: '127.0.0.1:0',
        registry: metrics.registry,
        isReady: () => ready,
        isHealthy: () => {
          if (healthy === 'throw') throw new Error('boom');
          return healthy;
        },
      });
    });
    afterEach(() => server.close());

    it('listens on an ephemeral port', () => {
      expect(server.port).to.be.greaterThan(0);
    });

    it('/healthz and /readyz answer 200 ok', async () => {
      expect(await request(server.port, '/healthz')).to.include({ status: 200, body: 'ok\n' });
      expect(await request(server.port, '/readyz')).to.include({ status: 200, body: 'ok\n' });
      expect(await request(server.port, '/readyz?verbose')).to.include({ status: 200 });
    });

    it('/readyz answers 503 with the reason when not ready', async () => {
      ready = { ok: false, reason: 'watches not synced' };
      expect(await request(server.port, '/readyz')).to.include({ status: 503, body: 'readyz failed: watches not synced\n' });
      ready = false;
      expect(await request(server.port, '/readyz')).to.include({ status: 503, body: 'readyz failed\n' });
      expect(await request(server.port, '/healthz')).to.include({ status: 200 });
    });

    it('/healthz answers 503 when unhealthy or when the probe throws', async () => {
      healthy = false;
      expect(await request(server.port, '/healthz')).to.include({ status: 503 });
      healthy = 'throw';
      expect(await request(server.port, '/healthz')).to.include({ status: 503, body: 'healthz failed: probe failed: boom\n' });
    });

    it('/metrics serves the registry in Prometheus text format', async () => {
      metrics.leader.set(1);
      const r = await request(server.port, '/metrics');
      expect(r.status).to.equal(200);
      expect(r.type).to.match(/^text\/plain; version=0.0.4/);
      expect(r.body).to.include('kubefledged_leader 1');
      expect(r.body).to.include('# TYPE kubefledged_reconcile_duration_seconds histogram');
    });

    it('other paths 404, other methods 405, HEAD has no body', async () => {
      expect(await request(server.port, '/')).to.include({ status: 404 });
      expect(await request(server.port, '/healthz', 'POST')).to.include({ status: 405 });
      expect(await request(server.port, '/healthz', 'HEAD')).to.include({ status: 200, body: '' });
    });

    it('close() frees the port', async () => {
      const port = server.port;
      await server.close();
      await new Promise<void>((resolve, reject) => {
        const probe = net.connect(port, '127.0.0.1');
        probe.on('connect', () => reject(new Error('still listening')));
        probe.on('error', () => resolve());
      });
      server = { port, close: async () => undefined };
    });

    it('a busy port is a clear error naming the address', async () => {
      let err: unknown;
      await startHealthServer({
        bindAddress: `127.0.0.1:${server.port}`,
        registry: metrics.registry,
        isReady: () => true,
        isHealthy: () => true,
      }).catch((e) => (err = e));
      expect(String(err)).to.match(new RegExp(`cannot listen on 127.0.0.1:${server.port} .*EADDRINUSE`));
    });
  });
});
