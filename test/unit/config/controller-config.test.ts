import { expect } from 'chai';
import {
  CONTROLLER_FLAGS,
  FlagError,
  controllerHelp,
  parseControllerConfig,
  type ControllerConfig,
} from '../../../src/config/controller-config.js';

function parse(argv: string[], env: Record<string, string | undefined> = {}): ControllerConfig {
  const r = parseControllerConfig(argv, env);
  if (!('config' in r)) expect.fail('expected a config, got help');
  return r.config;
}

function flagError(argv: string[]): FlagError {
  try {
    parseControllerConfig(argv, {});
  } catch (err) {
    expect(err).to.be.instanceOf(FlagError);
    return err as FlagError;
  }
  expect.fail(`expected a FlagError for ${argv.join(' ')}`);
}

const DEFAULTS: ControllerConfig = {
  imagePullDeadlineMs: 300_000,
  imageCacheRefreshFrequencyMs: 900_000,
  imagePullPolicy: 'IfNotPresent',
  serviceAccountName: '',
  imageDeleteJobHostNetwork: false,
  jobPriorityClassName: '',
  jobRetentionPolicy: 'delete',
  criSocketPath: '',
  kubeconfig: '',
  master: '',
  jobsMaxSurge: 0,
  watchThread: 'never',
  stderrthreshold: 'ERROR',
  verbosity: 0,
  logtostderr: false,
  logLevel: 'error',
  maxImagesPerJob: 50,
  podStartDeadlineMs: 60_000,
  statusMaxFailedNodesPerImage: 10,
  maxPullPodsPerNode: 0,
  maxPullsPerRegistry: 0,
  workloadImages: false,
  workloadImageGraceMs: 600_000,
  warmNodes: false,
  warmingDeadlineMs: 600_000,
  skipCordonedNodes: true,
  skipNotReadyNodes: true,
  targetNodeOs: ['linux'],
  targetNodeArchitectures: ['amd64', 'arm64', 'arm', 'ppc64le', 's390x', '386', 'riscv64'],
  leaderElect: true,
  leaderElectLeaseDurationMs: 15_000,
  leaderElectRenewDeadlineMs: 10_000,
  leaderElectRetryPeriodMs: 2_000,
  leaderElectResourceName: 'kubefledged-controller',
  metricsBindAddress: ':8080',
  workers: 4,
  nodeWatch: true,
  nodeFlapWindowMs: 600_000,
  kubeApiQps: 20,
  kubeApiClientLimit: 'auto',
  kubeApiBurst: 30,
  leaderElectExitOnLoss: false,
  shutdownGracePeriodMs: 20_000,
  namespace: 'kube-fledged',
  criClientImage: 'docker.io/kubefledgedts/kube-fledged:v0.11.0',
  busyboxImage: 'senthilrch/busybox:1.35.0',
};

describe('config/controller-config', () => {
  it('defaults of spec §2.1/§2.2 and of our additions', () => {
    expect(parse([])).to.deep.equal(DEFAULTS);
  });

  describe('every flag, in the four spellings', () => {
    // flag, text value, expected config field and value
    const cases: [string, string, keyof ControllerConfig, unknown][] = [
      ['image-pull-deadline-duration', '30s', 'imagePullDeadlineMs', 30_000],
      ['image-cache-refresh-frequency', '1h30m', 'imageCacheRefreshFrequencyMs', 5_400_000],
      ['image-pull-policy', 'Always', 'imagePullPolicy', 'Always'],
      ['service-account-name', 'puller', 'serviceAccountName', 'puller'],
      ['image-delete-job-host-network', 'true', 'imageDeleteJobHostNetwork', true],
      ['job-priority-class-name', 'system-node-critical', 'jobPriorityClassName', 'system-node-critical'],
      ['job-retention-policy', 'retain', 'jobRetentionPolicy', 'retain'],
      ['cri-socket-path', '/run/containerd/containerd.sock', 'criSocketPath', '/run/containerd/containerd.sock'],
      ['kubeconfig', '/tmp/kc', 'kubeconfig', '/tmp/kc'],
      ['master', 'https://127.0.0.1:6443', 'master', 'https://127.0.0.1:6443'],
      ['jobs-max-surge', '20', 'jobsMaxSurge', 20],
      ['watch-thread', 'auto', 'watchThread', 'auto'],
      ['stderrthreshold', 'INFO', 'stderrthreshold', 'INFO'],
      ['v', '2', 'verbosity', 2],
      ['logtostderr', 'true', 'logtostderr', true],
      ['max-images-per-job', '10', 'maxImagesPerJob', 10],
      ['leader-elect', 'false', 'leaderElect', false],
      ['leader-elect-lease-duration', '30s', 'leaderElectLeaseDurationMs', 30_000],
      ['leader-elect-renew-deadline', '5s', 'leaderElectRenewDeadlineMs', 5_000],
      ['leader-elect-retry-period', '1s', 'leaderElectRetryPeriodMs', 1_000],
      ['leader-elect-resource-name', 'my-lease', 'leaderElectResourceName', 'my-lease'],
      ['metrics-bind-address', '127.0.0.1:9090', 'metricsBindAddress', '127.0.0.1:9090'],
      ['workers', '8', 'workers', 8],
      ['node-watch', 'false', 'nodeWatch', false],
      ['node-flap-window', '30s', 'nodeFlapWindowMs', 30_000],
      ['pod-start-deadline-duration', '20s', 'podStartDeadlineMs', 20_000],
      ['status-max-failed-nodes-per-image', '5', 'statusMaxFailedNodesPerImage', 5],
      ['skip-cordoned-nodes', 'false', 'skipCordonedNodes', false],
      ['warm-nodes', 'true', 'warmNodes', true],
      ['workload-images', 'true', 'workloadImages', true],
      ['workload-image-grace', '30s', 'workloadImageGraceMs', 30_000],
      ['warming-deadline', '2m', 'warmingDeadlineMs', 120_000],
      ['max-pull-pods-per-node', '1', 'maxPullPodsPerNode', 1],
      ['max-pulls-per-registry', '50', 'maxPullsPerRegistry', 50],
      ['skip-not-ready-nodes', 'false', 'skipNotReadyNodes', false],
      ['target-node-os', 'linux,windows', 'targetNodeOs', ['linux', 'windows']],
      ['target-node-architectures', '', 'targetNodeArchitectures', []],
      ['kube-api-qps', '0.5', 'kubeApiQps', 0.5],
      ['kube-api-burst', '5', 'kubeApiBurst', 5],
      ['leader-elect-exit-on-loss', 'true', 'leaderElectExitOnLoss', true],
      ['shutdown-grace-period', '5s', 'shutdownGracePeriodMs', 5_000],
    ];
    for (const [flag, text, field, value] of cases) {
      it(`-${flag}`, () => {
        for (const argv of [[`-${flag}=${text}`], [`--${flag}=${text}`], [`-${flag}`, text], [`--${flag}`, text]]) {
          const isBool = CONTROLLER_FLAGS[flag as keyof typeof CONTROLLER_FLAGS].type === 'bool';
          if (isBool && argv.length === 2) continue; // Go: a bool never takes a separate argument
          expect(parse(argv)[field], argv.join(' ')).to.deep.equal(value);
        }
      });
    }
    it('covers every defined flag', () => {
      const tested = new Set([...cases.map((c) => c[0]), 'alsologtostderr', 'vmodule', 'log_dir', 'log_backtrace_at']);
      expect(Object.keys(CONTROLLER_FLAGS).filter((f) => !tested.has(f))).to.deep.equal([]);
    });
    it('bare bool flags mean true', () => {
      expect(parse(['--image-delete-job-host-network']).imageDeleteJobHostNetwork).to.equal(true);
      expect(parse(['-logtostderr', '-alsologtostderr']).logtostderr).to.equal(true);
    });
  });

  it('accepts the arguments of the shipped manifests and chart (glog flags included)', () => {
    const c = parse([
      '--stderrthreshold=INFO',
      '--image-pull-deadline-duration=5m',
      '--image-cache-refresh-frequency=15m',
      '--image-pull-policy=IfNotPresent',
      '--job-retention-policy=delete',
      '--service-account-name=',
      '--image-delete-job-host-network=false',
      '--alsologtostderr',
      '--logtostderr=false',
      '-v=4',
      '--vmodule=controller=4',
      '--log_dir=/tmp',
      '--log_backtrace_at=main.go:10',
    ]);
    expect(c.stderrthreshold).to.equal('INFO');
    expect(c.verbosity).to.equal(4);
    expect(c.logLevel).to.equal('debug');
  });

  describe('Go-style durations', () => {
    it('0s disables the refresh', () => {
      expect(parse(['--image-cache-refresh-frequency=0s']).imageCacheRefreshFrequencyMs).to.equal(0);
      expect(parse(['--image-cache-refresh-frequency=0']).imageCacheRefreshFrequencyMs).to.equal(0);
    });
    it('a number without unit is an error naming the flag', () => {
      const e = flagError(['--image-pull-deadline-duration=15']);
      expect(e.flag).to.equal('image-pull-deadline-duration');
      expect(e.message).to.match(/^invalid value "15" for flag -image-pull-deadline-duration: time: missing unit/);
    });
    it('a zero or negative deadline is refused', () => {
      expect(flagError(['--image-pull-deadline-duration=0s']).flag).to.equal('image-pull-deadline-duration');
      expect(flagError(['--image-pull-deadline-duration=-1m']).flag).to.equal('image-pull-deadline-duration');
    });
    it('a sub-second refresh period is refused (0s disables instead)', () => {
      expect(flagError(['--image-cache-refresh-frequency=10ms']).message).to.match(/must be at least 1s \(or 0s\)/);
    });
  });

  describe('enumerations', () => {
    it('image-pull-policy: case-insensitive, other values are an error naming the flag', () => {
      expect(parse(['--image-pull-policy=always']).imagePullPolicy).to.equal('Always');
      const e = flagError(['--image-pull-policy=Never']);
      expect(e.flag).to.equal('image-pull-policy');
      expect(e.message).to.equal('invalid value "Never" for flag -image-pull-policy: must be one of IfNotPresent, Always');
    });
    it('job-retention-policy: case-insensitive and trimmed; invalid is an error', () => {
      expect(parse(['--job-retention-policy= RETAIN ']).jobRetentionPolicy).to.equal('retain');
      expect(parse(['--job-retention-policy=Delete']).jobRetentionPolicy).to.equal('delete');
      const e = flagError(['--job-retention-policy=keep']);
      expect(e.flag).to.equal('job-retention-policy');
      expect(e.message).to.equal('invalid value "keep" for flag -job-retention-policy: must be one of delete, retain');
    });
    it('stderrthreshold: names or numbers 0-3', () => {
      expect(parse(['--stderrthreshold=warning']).stderrthreshold).to.equal('WARNING');
      expect(parse(['--stderrthreshold=0']).stderrthreshold).to.equal('INFO');
      expect(parse(['--stderrthreshold=3']).stderrthreshold).to.equal('FATAL');
      expect(flagError(['--stderrthreshold=4']).flag).to.equal('stderrthreshold');
      expect(flagError(['--stderrthreshold=DEBUG']).flag).to.equal('stderrthreshold');
    });
  });

  describe('log level from the glog flags', () => {
    const cases: [string[], string][] = [
      [[], 'error'],
      [['--stderrthreshold=INFO'], 'info'],
      [['--stderrthreshold=1'], 'warn'],
      [['--stderrthreshold=ERROR'], 'error'],
      [['--stderrthreshold=FATAL'], 'error'],
      [['--logtostderr'], 'info'],
      [['-v=3', '--stderrthreshold=INFO'], 'info'],
      [['-v=4'], 'debug'],
      [['-v', '10', '--stderrthreshold=ERROR'], 'debug'],
    ];
    for (const [argv, level] of cases) {
      it(`${argv.join(' ') || '(none)'} -> ${level}`, () => {
        expect(parse(argv).logLevel).to.equal(level);
      });
    }
    it('-v must be a non-negative int', () => {
      expect(flagError(['-v=-1']).flag).to.equal('v');
      expect(flagError(['-v=high']).flag).to.equal('v');
    });
  });

  describe('ints', () => {
    it('jobs-max-surge < 0 is an error', () => {
      const e = flagError(['--jobs-max-surge=-1']);
      expect(e.flag).to.equal('jobs-max-surge');
      expect(e.message).to.equal('invalid value "-1" for flag -jobs-max-surge: must be >= 0');
    });
    it('max-images-per-job stays within 1..200', () => {
      expect(parse(['--max-images-per-job=1']).maxImagesPerJob).to.equal(1);
      expect(parse(['--max-images-per-job=200']).maxImagesPerJob).to.equal(200);
      expect(flagError(['--max-images-per-job=0']).flag).to.equal('max-images-per-job');
      expect(flagError(['--max-images-per-job=201']).flag).to.equal('max-images-per-job');
    });
    it('workers >= 1', () => {
      expect(flagError(['--workers=0']).flag).to.equal('workers');
    });
    it('kube-api-qps is auto (the default), a number > 0 or -1', () => {
      const limit = (args: string[]) => { const c = parse(args); return [c.kubeApiClientLimit, c.kubeApiQps]; };
      expect(limit([])).to.deep.equal(['auto', 20]);
      expect(limit(['--kube-api-qps=auto'])).to.deep.equal(['auto', 20]);
      expect(limit(['--kube-api-qps=50'])).to.deep.equal(['limit', 50]);
      // no client-side limit; Job deletes keep kube-controller-manager's pace
      expect(limit(['--kube-api-qps=-1'])).to.deep.equal(['unlimited', 20]);
    });
    it('kube-api-qps is auto, a number > 0 or -1, and kube-api-burst an integer >= 1, each naming the flag', () => {
      for (const bad of ['0', '-2', 'fast', 'AUTO', '']) {
        const e = flagError([`--kube-api-qps=${bad}`]);
        expect(e.flag).to.equal('kube-api-qps');
        expect(e.message).to.contain('"auto", a number of requests per second > 0').and.contain('-1 for no client-side limit');
      }
      expect(flagError(['--kube-api-burst=0']).flag).to.equal('kube-api-burst');
    });
  });

  describe('leader election and metrics', () => {
    it('renew deadline must be shorter than the lease', () => {
      const e = flagError(['--leader-elect-lease-duration=10s', '--leader-elect-renew-deadline=10s']);
      expect(e.flag).to.equal('leader-elect-renew-deadline');
      expect(e.message).to.match(/must be shorter than -leader-elect-lease-duration \(10s\)/);
    });
    it('renew deadline must exceed 1.2 x retry period', () => {
      const e = flagError(['--leader-elect-retry-period=9s']);
      expect(e.flag).to.equal('leader-elect-retry-period');
    });
    it('lease name must be a DNS subdomain', () => {
      expect(flagError(['--leader-elect-resource-name=Bad_Name']).flag).to.equal('leader-elect-resource-name');
    });
    it('metrics-bind-address: "0" disables, ports are checked', () => {
      expect(parse(['--metrics-bind-address=0']).metricsBindAddress).to.equal('0');
      expect(parse(['--metrics-bind-address=:0']).metricsBindAddress).to.equal(':0');
      expect(parse(['--metrics-bind-address=[::1]:8080']).metricsBindAddress).to.equal('[::1]:8080');
      expect(flagError(['--metrics-bind-address=8080']).flag).to.equal('metrics-bind-address');
      expect(flagError(['--metrics-bind-address=:70000']).flag).to.equal('metrics-bind-address');
      expect(flagError(['--metrics-bind-address=::1:8080']).message).to.equal(
        'invalid value "::1:8080" for flag -metrics-bind-address: use "[host]:port" such as ":8080", "127.0.0.1:8080" or "[::1]:8080", or "0" to disable',
      );
    });
  });

  describe('environment (spec §2.2)', () => {
    it('reads the three variables', () => {
      const c = parse([], {
        KUBEFLEDGED_NAMESPACE: 'ops',
        KUBEFLEDGED_CRI_CLIENT_IMAGE: 'reg.local/cri:1',
        BUSYBOX_IMAGE: 'reg.local/busybox:1',
      });
      expect([c.namespace, c.criClientImage, c.busyboxImage]).to.deep.equal(['ops', 'reg.local/cri:1', 'reg.local/busybox:1']);
    });
    it('empty values fall back to the defaults', () => {
      const c = parse([], { KUBEFLEDGED_NAMESPACE: '', KUBEFLEDGED_CRI_CLIENT_IMAGE: ' ', BUSYBOX_IMAGE: undefined });
      expect([c.namespace, c.criClientImage, c.busyboxImage]).to.deep.equal([
        'kube-fledged',
        'docker.io/kubefledgedts/kube-fledged:v0.11.0',
        'senthilrch/busybox:1.35.0',
      ]);
    });
  });

  describe('errors', () => {
    it('unknown flag in Go wording, naming it', () => {
      const e = flagError(['--image-pull-deadline=5m']);
      expect(e.message).to.equal('flag provided but not defined: -image-pull-deadline');
      expect(e.flag).to.equal('image-pull-deadline');
    });
    it('removed flags of old releases are unknown', () => {
      expect(flagError(['--cri-client-image=x']).flag).to.equal('cri-client-image');
    });
    it('positional arguments are refused instead of silently ending the flags', () => {
      const e = flagError(['run', '--workers=2']);
      expect(e.message).to.match(/unexpected argument "run"/);
    });
  });

  describe('--help', () => {
    for (const h of ['-h', '--help', '-help']) {
      it(`${h} returns the help text`, () => {
        const r = parseControllerConfig([h], {});
        expect(r).to.deep.equal({ help: controllerHelp() });
      });
    }
    it('lists every flag with its default, and the environment variables', () => {
      const help = controllerHelp();
      for (const name of Object.keys(CONTROLLER_FLAGS)) {
        expect(help, name).to.match(new RegExp(`^  -${name} `, 'm'));
      }
      const defaults = [
        '-image-pull-deadline-duration duration',
        '(default 5m0s)',
        '(default 15m0s)',
        '(default "IfNotPresent")',
        '(default "delete")',
        '(default "ERROR")',
        '(default 50)',
        '(default 15s)',
        '(default 10s)',
        '(default 2s)',
        '(default "kubefledged-controller")',
        '(default ":8080")',
        '(default 4)',
        '(default true)',
        'KUBEFLEDGED_NAMESPACE',
        '(default "kube-fledged")',
        '(default "docker.io/kubefledgedts/kube-fledged:v0.11.0")',
        '(default "senthilrch/busybox:1.35.0")',
      ];
      for (const d of defaults) expect(help).to.include(d);
      // one "(default" per flag and per env var
      expect(help.match(/\(default /g)?.length).to.equal(Object.keys(CONTROLLER_FLAGS).length + 3);
    });
  });
});
