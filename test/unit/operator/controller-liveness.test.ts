import { expect } from 'chai';
import * as sinon from 'sinon';
import { KubeConfig } from '@kubernetes/client-node';
import { parseControllerConfig, type ControllerConfig } from '../../../src/config/controller-config.js';
import { Controller } from '../../../src/operator/controller.js';
import { createControllerMetrics } from '../../../src/operator/metrics.js';
import { createLogger } from '../../../src/operator/logger.js';

describe('operator/controller: liveness and readiness', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => { clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }); });
  afterEach(() => clock.restore());

  const controller = () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const config = (parseControllerConfig([], {}) as { config: ControllerConfig }).config;
    return new Controller(config, kc, createLogger('error'));
  };

  it('healthy until one reconcile has run longer than the wedge limit, naming the key', async () => {
    const c = controller();
    expect(c.healthy()).to.deep.equal({ ok: true });
    c.queue.add('ns/a');
    await c.queue.get();
    clock.tick(9 * 60_000);
    expect(c.healthy().ok).to.equal(true);
    clock.tick(2 * 60_000);
    expect(c.healthy()).to.deep.equal({ ok: false, reason: 'reconcile of ns/a has been running for 660 s' });
    c.queue.done('ns/a');
    expect(c.healthy().ok).to.equal(true);
  });

  it('not ready before start() has synced every watch', () => {
    expect(controller().ready()).to.equal(false);
  });
});

describe('operator/metrics: event-loop delay', () => {
  it('a blocked event loop shows in kubefledged_event_loop_delay_seconds{quantile="1"}', async () => {
    const m = createControllerMetrics({ defaultMetrics: false });
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 300;
    while (Date.now() < until) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 30));
    const text = await m.registry.metrics();
    const max = Number(/kubefledged_event_loop_delay_seconds\{quantile="1"\} ([0-9.e-]+)/.exec(text)?.[1]);
    expect(max).to.be.greaterThan(0.2);
    // reset at each scrape
    await new Promise((r) => setTimeout(r, 30));
    const again = Number(/kubefledged_event_loop_delay_seconds\{quantile="1"\} ([0-9.e-]+)/.exec(await m.registry.metrics())?.[1]);
    expect(again).to.be.lessThan(0.2);
  });
});
