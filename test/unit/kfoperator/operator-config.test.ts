// kubefledged-operator's flags and environment, and its SDK event handler (enqueue only, own namespace).
import { expect } from 'chai';
import * as path from 'node:path';
import { FlagError } from '../../../src/config/flag-parser.js';
import { parseOperatorConfig, type OperatorConfig } from '../../../src/kfoperator/operator-config.js';
import { KubeFledgedOperator } from '../../../src/kfoperator/kubefledged-operator.js';
import { createLogger } from '../../../src/operator/logger.js';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import type { ResourceEvent } from '@dot-i/k8s-operator';

describe('kfoperator: configuration and events', () => {
  it('takes its namespace from WATCH_NAMESPACE and the helm binary and chart from the environment, with defaults', () => {
    const parsed = parseOperatorConfig([], { WATCH_NAMESPACE: 'kube-fledged' });
    expect(parsed).to.have.property('config');
    const { config } = parsed as { config: OperatorConfig };
    expect(config).to.deep.include({ namespace: 'kube-fledged', helmBinary: 'helm', chartDir: path.join(ROOT, 'helm', 'kube-fledged'), resyncPeriodMs: 300_000, workers: 2, logLevel: 'info', kubeconfig: '' });
    const custom = parseOperatorConfig(['--resync-period=30s', '--workers=1', '-v=debug', '--kubeconfig=/k'], { WATCH_NAMESPACE: 'ns', HELM_BINARY: '/usr/local/bin/helm', KUBEFLEDGED_CHART_DIR: '/opt/chart' });
    expect((custom as { config: OperatorConfig }).config).to.deep.include({ resyncPeriodMs: 30_000, workers: 1, logLevel: 'debug', kubeconfig: '/k', helmBinary: '/usr/local/bin/helm', chartDir: '/opt/chart' });
  });

  it('refuses to start without WATCH_NAMESPACE, with several namespaces, or with stray arguments, saying what to do', () => {
    expect(() => parseOperatorConfig([], {})).to.throw(FlagError, /WATCH_NAMESPACE is not set: set it to the namespace/);
    expect(() => parseOperatorConfig([], { WATCH_NAMESPACE: 'a,b' })).to.throw(FlagError, /more than one namespace: run one operator per namespace/);
    expect(() => parseOperatorConfig(['extra'], { WATCH_NAMESPACE: 'a' })).to.throw(FlagError, /unexpected argument "extra"/);
    expect(() => parseOperatorConfig(['--resync-period=10ms'], { WATCH_NAMESPACE: 'a' })).to.throw(FlagError, /resync-period/);
  });

  it('prints help listing the flags and the environment', () => {
    const parsed = parseOperatorConfig(['--help'], {});
    expect(parsed).to.have.property('help');
    const help = (parsed as { help: string }).help;
    for (const s of ['Usage of kubefledged-operator:', '-resync-period', '-workers', 'WATCH_NAMESPACE', 'HELM_BINARY', 'KUBEFLEDGED_CHART_DIR']) expect(help).to.contain(s);
  });

  it('enqueues namespace/name for events of its own namespace only, and never throws', () => {
    const keys: string[] = [];
    const op = new KubeFledgedOperator('kf', (k) => keys.push(k), createLogger('error'));
    const event = (namespace: string | undefined, type = 'ADDED'): ResourceEvent =>
      ({ type, meta: { name: 'rel', namespace, id: 'x', resourceVersion: '1', apiVersion: 'v', kind: 'KubeFledged' }, object: { metadata: { name: 'rel', namespace } } }) as unknown as ResourceEvent;
    op.onEvent(event('kf'));
    op.onEvent(event('kf', 'DELETED'));
    op.onEvent(event('other'));
    expect(() => op.onEvent({ type: 'ADDED' } as unknown as ResourceEvent)).not.to.throw();
    expect(keys).to.deep.equal(['kf/rel', 'kf/rel']);
  });
});
