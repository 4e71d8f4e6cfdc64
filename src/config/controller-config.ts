// The controller's configuration: every flag of the Go kube-fledged controller (spec §2.1) with the
// same name, default and meaning, the glog flags the shipped manifests pass, our additions (leader
// election, metrics, workers, node watch, chunking), and the environment variables of spec §2.2.
// Pure: argv and env come in, a ControllerConfig (durations in ms) or the help text comes out.

import { DEFAULT_BUSYBOX_IMAGE, DEFAULT_CRI_CLIENT_IMAGE, DEFAULT_NAMESPACE } from '../api/constants.js';
import { DEFAULT_KUBE_API_QPS, type ClientLimit } from '../kube/token-bucket.js';
import { parseBindAddress } from './bind-address.js';
import { formatGoDuration } from './duration.js';
import { envUsage, readEnvVar, type EnvVarDefs } from './env-vars.js';
import { FlagError, parseFlags, usage, type FlagDefs, type FlagValues } from './flag-parser.js';
import { GLOG_FLAGS, glogLogLevel, type GlogSeverity, type LogLevel } from './glog-flags.js';

export { FlagError } from './flag-parser.js';
export type { GlogSeverity, LogLevel } from './glog-flags.js';

export const CONTROLLER_PROGRAM = 'kubefledged-controller';

export type ImagePullPolicy = 'IfNotPresent' | 'Always';
export type JobRetentionPolicy = 'delete' | 'retain';

export interface ControllerConfig {
  /** --image-pull-deadline-duration: how long an operation waits for its Jobs once all are created. */
  imagePullDeadlineMs: number;
  /** --image-cache-refresh-frequency: period of the refresh of every cache; 0 disables it. */
  imageCacheRefreshFrequencyMs: number;
  /** --image-pull-policy */
  imagePullPolicy: ImagePullPolicy;
  /** --service-account-name: serviceAccountName of Job pods; "" = the namespace's default. */
  serviceAccountName: string;
  /** --image-delete-job-host-network: hostNetwork of delete Job pods. */
  imageDeleteJobHostNetwork: boolean;
  /** --job-priority-class-name: priorityClassName of Job pods; "" = none. */
  jobPriorityClassName: string;
  /** --job-retention-policy: delete Jobs when the operation ends, or keep them. */
  jobRetentionPolicy: JobRetentionPolicy;
  /** --cri-socket-path: host path of the CRI socket for delete Jobs; "" = per-runtime default. */
  criSocketPath: string;
  /** --kubeconfig: path of a kubeconfig file; "" = in-cluster or the default loading rules. */
  kubeconfig: string;
  /** --master: API server URL overriding the kubeconfig's; "" = keep it. */
  master: string;
  /** --jobs-max-surge: maximum concurrently active Jobs over all caches; 0 = unlimited. */
  jobsMaxSurge: number;

  /** --stderrthreshold, canonical glog severity name. */
  stderrthreshold: GlogSeverity;
  /** -v: glog verbosity. */
  verbosity: number;
  /** --logtostderr */
  logtostderr: boolean;
  /**
   * The winston level derived from the glog flags: -v >= 4 gives 'debug'; else --logtostderr gives
   * 'info' (glog then writes every severity to stderr); else --stderrthreshold (INFO -> info,
   * WARNING -> warn, ERROR and FATAL -> error).
   */
  logLevel: LogLevel;

  /** --max-images-per-job: containers (images) per pull or delete pod; a node with more gets several Jobs. */
  maxImagesPerJob: number;
  /** --pod-start-deadline-duration: a Job whose pod has not started by then fails for its node alone. */
  podStartDeadlineMs: number;
  /** --status-max-failed-nodes-per-image: nodes listed per image in status.failures (the rest are counted). */
  statusMaxFailedNodesPerImage: number;
  /** --max-pull-pods-per-node: concurrent pull pods on one node (all caches); 0 = unlimited. */
  maxPullPodsPerNode: number;
  /** --max-pulls-per-registry: images being pulled from one registry host across the cluster; 0 = unlimited. */
  maxPullsPerRegistry: number;
  /** --workload-images: caches with a workloadSelector follow the images of the matching workloads (needs read access to them). */
  workloadImages: boolean;
  /** --workload-image-grace: how long an image no workload uses any more stays cached. */
  workloadImageGraceMs: number;
  /** --warm-nodes: lift the kubefledged.io/warming startup taint once a node has the images of every cache selecting it. */
  warmNodes: boolean;
  /** --warming-deadline: lift the taint anyway this long after the node's creation (with a Warning Event). */
  warmingDeadlineMs: number;
  /** --skip-cordoned-nodes: leave cordoned nodes out (and report them); false = the original's behaviour. */
  skipCordonedNodes: boolean;
  /** --skip-not-ready-nodes: leave NotReady nodes out (and report them) instead of failing them. */
  skipNotReadyNodes: boolean;
  /** --target-node-os: kubernetes.io/os values the pull pods run on; empty = any (the original). */
  targetNodeOs: string[];
  /** --target-node-architectures: kubernetes.io/arch values the Job images run on; empty = any. */
  targetNodeArchitectures: string[];
  /** --leader-elect */
  leaderElect: boolean;
  /** --leader-elect-lease-duration */
  leaderElectLeaseDurationMs: number;
  /** --leader-elect-renew-deadline */
  leaderElectRenewDeadlineMs: number;
  /** --leader-elect-retry-period */
  leaderElectRetryPeriodMs: number;
  /** --leader-elect-resource-name: name of the Lease in `namespace`. */
  leaderElectResourceName: string;
  /** --metrics-bind-address: "[host]:port" of /metrics, /healthz, /readyz; "0" disables the server. */
  metricsBindAddress: string;
  /** --workers: caches reconciled in parallel (one key is never reconciled twice at once). */
  workers: number;
  /** --node-watch: cache images on a node as soon as it joins or becomes Ready. */
  nodeWatch: boolean;
  /** --node-flap-window: a node Ready again within this long after going NotReady gets only what it is missing. */
  nodeFlapWindowMs: number;
  /** --watch-thread: whether the Job and pod informers read their answers on a thread of their own (auto: on clusters of WATCH_THREAD_AUTO_NODES nodes or more; never by default). */
  watchThread: 'auto' | 'always' | 'never';
  /** --kube-api-qps: client-side rate limit of API requests per second (client-go's flag); the pace of Job deletes. */
  kubeApiQps: number;
  /** --kube-api-qps=auto (default): lifted while the server runs API Priority and Fairness; -1: 'unlimited'. */
  kubeApiClientLimit: ClientLimit;
  /** --kube-api-burst: requests allowed in a burst above --kube-api-qps. */
  kubeApiBurst: number;
  /** --leader-elect-exit-on-loss: exit (client-go's behaviour) instead of re-entering the election. */
  leaderElectExitOnLoss: boolean;
  /** --shutdown-grace-period: how long SIGTERM waits for reconciles in flight before exiting. */
  shutdownGracePeriodMs: number;

  /** KUBEFLEDGED_NAMESPACE: namespace of the controller (its Lease lives there). */
  namespace: string;
  /** KUBEFLEDGED_CRI_CLIENT_IMAGE: image of delete Jobs. */
  criClientImage: string;
  /** BUSYBOX_IMAGE: init container image of pull Jobs. */
  busyboxImage: string;
}

/** "[host]:port" with a port 0..65535, or "0" (disabled). */
export function checkBindAddress(value: string): string | undefined {
  if (value === '0') return undefined;
  try {
    parseBindAddress(value);
    return undefined;
  } catch {
    return 'use "[host]:port" such as ":8080", "127.0.0.1:8080" or "[::1]:8080", or "0" to disable';
  }
}

function checkQps(value: string): string | undefined {
  return parseQps(value) ? undefined
    : 'must be "auto", a number of requests per second > 0 such as 20 or 0.5, or -1 for no client-side limit';
}

/**
 * --kube-api-qps: "auto" (no client-side limit while the API server runs API Priority and Fairness,
 * else kube-controller-manager's 20), a number > 0 (always that limit), or -1 (never limited). The
 * pace is what Job deletes, which are always paced, and 'auto' without APF use.
 */
export function parseQps(value: string): { limit: ClientLimit; qps: number } | undefined {
  const v = value.trim();
  if (v === 'auto') return { limit: 'auto', qps: DEFAULT_KUBE_API_QPS };
  if (v === '-1') return { limit: 'unlimited', qps: DEFAULT_KUBE_API_QPS };
  const n = Number(v);
  return v !== '' && Number.isFinite(n) && n > 0 ? { limit: 'limit', qps: n } : undefined;
}

function checkName(value: string): string | undefined {
  if (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) return undefined;
  return 'must be a DNS subdomain name (lowercase letters, digits, "-" and ".")';
}

export const CONTROLLER_FLAGS = {
  // --- flags of the original controller (spec §2.1) ---
  'image-pull-deadline-duration': {
    type: 'duration',
    default: 5 * 60_000,
    min: 1,
    description:
      'Maximum duration allowed for pulling or deleting the images of one operation, counted from the creation of its last Job; unfinished pulls then become failures',
  },
  'image-cache-refresh-frequency': {
    type: 'duration',
    default: 15 * 60_000,
    min: 1000,
    allowZero: true,
    description: 'Frequency of the periodic refresh of every image cache; 0s disables it (the refresh annotation still works)',
  },
  'image-pull-policy': {
    type: 'enum',
    values: ['IfNotPresent', 'Always'],
    default: 'IfNotPresent',
    description:
      'Image pull policy for pulling images into and refreshing the cache: IfNotPresent skips images already on the node, Always pulls them again',
  },
  'service-account-name': {
    type: 'string',
    default: '',
    description: 'serviceAccountName of the image pull and delete Job pods; empty means the default service account of the namespace',
  },
  'image-delete-job-host-network': {
    type: 'bool',
    default: false,
    description: 'Run image delete Job pods in the host network namespace',
  },
  'job-priority-class-name': {
    type: 'string',
    default: '',
    description: 'priorityClassName of the image pull and delete Job pods; empty means none',
  },
  'job-retention-policy': {
    type: 'enum',
    values: ['delete', 'retain'],
    default: 'delete',
    description: 'What happens to the Jobs when an operation ends: delete them, or retain them for inspection',
  },
  'cri-socket-path': {
    type: 'string',
    default: '',
    description:
      'Host path of the container runtime (CRI) socket mounted into image delete Job pods; empty means the default socket of the node\'s runtime',
  },
  kubeconfig: {
    type: 'string',
    default: '',
    description:
      'Path to a kubeconfig file; empty means the in-cluster service account, or else $KUBECONFIG / ~/.kube/config',
  },
  master: {
    type: 'string',
    default: '',
    description: 'Address of the Kubernetes API server; overrides the server of the kubeconfig',
  },
  'jobs-max-surge': {
    type: 'int',
    default: 0,
    min: 0,
    description: 'Maximum number of image pull and delete Jobs active at the same time over all caches; 0 means unlimited',
  },
  // --- glog flags of the original (accepted so existing manifests keep working) ---
  ...GLOG_FLAGS,
  // --- flags of this implementation ---
  'max-images-per-job': {
    type: 'int',
    default: 50,
    min: 1,
    max: 200,
    description: 'Images (containers) per image pull or delete pod; a node with more images in one operation gets several Jobs',
  },
  'pod-start-deadline-duration': {
    type: 'duration',
    default: 60_000,
    min: 1000,
    description:
      'How long a Job\'s pod may take to start on its node (scheduled and taken up by the kubelet), from the pod\'s creation, before the images of that node fail with the reason (unschedulable, node not running pods); a Job whose pod the Job controller cannot create fails on its FailedCreate Event, one with no pod yet at the pull deadline; at most the pull deadline',
  },
  'max-pull-pods-per-node': {
    type: 'int',
    default: 0,
    min: 0,
    description: 'Maximum number of image pull pods running at the same time on one node, over all caches; 0 means unlimited (e.g. 1 lets a node pull one Job at a time)',
  },
  'max-pulls-per-registry': {
    type: 'int',
    default: 0,
    min: 0,
    description: 'Maximum number of images being pulled at the same time from one registry host, over all nodes and caches; 0 means unlimited (e.g. 50 spares a registry a 1,000-node burst)',
  },
  'workload-images': {
    type: 'bool',
    default: false,
    description: 'Let cacheSpec entries with a workloadSelector cache the images of the Deployments, StatefulSets, DaemonSets and CronJobs of their namespace (needs list/watch on them)',
  },
  'workload-image-grace': {
    type: 'duration',
    default: 10 * 60_000,
    min: 0,
    description: 'With --workload-images: how long an image that no matching workload uses any more stays in the cache before it is deleted from the nodes',
  },
  'warm-nodes': {
    type: 'bool',
    default: false,
    description: 'Warm before work: remove the startup taint kubefledged.io/warming from a node once every cache that selects it has its images there (needs patch on nodes)',
  },
  'warming-deadline': {
    type: 'duration',
    default: 10 * 60_000,
    min: 1000,
    description: 'With --warm-nodes: remove the warming taint anyway this long after the node was created, with a Warning Event naming the caches still cold',
  },
  'skip-cordoned-nodes': {
    type: 'bool',
    default: true,
    description: 'Leave cordoned (unschedulable) nodes out of every operation and list them in status.skippedNodes; false targets them as the original did',
  },
  'skip-not-ready-nodes': {
    type: 'bool',
    default: true,
    description: 'Leave NotReady nodes out of every operation and list them in status.skippedNodes, instead of failing their images; false targets them as the original did',
  },
  'target-node-os': {
    type: 'string',
    default: 'linux',
    description: 'Comma-separated kubernetes.io/os values of the nodes the pull and delete pods can run on; others are skipped and reported; empty means any',
  },
  'target-node-architectures': {
    type: 'string',
    default: 'amd64,arm64,arm,ppc64le,s390x,386,riscv64',
    description: 'Comma-separated kubernetes.io/arch values the busybox and CRI client images run on; nodes of other architectures are skipped and reported; empty means any',
  },
  'status-max-failed-nodes-per-image': {
    type: 'int',
    default: 10,
    min: 1,
    max: 1000,
    description: 'Nodes listed per image in status.failures; the number of the other failed nodes is in status.failuresOmitted',
  },
  'leader-elect': {
    type: 'bool',
    default: true,
    description: 'Elect a leader through a coordination.k8s.io Lease before reconciling, so that several replicas can run safely',
  },
  'leader-elect-lease-duration': {
    type: 'duration',
    default: 15_000,
    min: 1000,
    description: 'How long non-leaders wait after the last renewal before taking over the lease',
  },
  'leader-elect-renew-deadline': {
    type: 'duration',
    default: 10_000,
    min: 1000,
    description: 'How long the leader keeps retrying to renew the lease before giving up leadership (it then stops work and campaigns again)',
  },
  'leader-elect-retry-period': {
    type: 'duration',
    default: 2_000,
    min: 100,
    description: 'Interval between attempts to acquire or renew the lease',
  },
  'leader-elect-resource-name': {
    type: 'string',
    default: 'kubefledged-controller',
    validate: checkName,
    description: 'Name of the Lease object, in the namespace of $KUBEFLEDGED_NAMESPACE',
  },
  'metrics-bind-address': {
    type: 'string',
    default: ':8080',
    validate: checkBindAddress,
    description: 'Address of the HTTP server for /metrics, /healthz and /readyz; "0" disables it',
  },
  workers: {
    type: 'int',
    default: 4,
    min: 1,
    max: 100,
    description: 'Number of image caches reconciled in parallel (one cache is never reconciled twice at once)',
  },
  'node-watch': {
    type: 'bool',
    default: true,
    description: 'Cache images on a node as soon as it joins the cluster or becomes Ready, instead of at the next refresh',
  },
  'node-flap-window': {
    type: 'duration',
    default: 10 * 60_000,
    min: 0,
    description:
      'A node that is Ready again within this long after it went NotReady is not a new node: it gets only the images its status says are missing (0 = treat every return as a join)',
  },
  'kube-api-qps': {
    type: 'string',
    default: 'auto',
    validate: checkQps,
    description: 'Client-side limit of requests per second to the API server, shared by every call and watch of the controller. "auto": none while the API server runs API Priority and Fairness (its answers carry X-Kubernetes-PF-FlowSchema-UID; on by default since Kubernetes 1.20), else 20; -1: none. Job deletes (the clean-up) are always paced at this rate (20 for auto and -1)',
  },
  'watch-thread': {
    type: 'enum',
    values: ['auto', 'always', 'never'],
    default: 'never',
    description:
      'Read the watches and lists of the controller\'s Jobs and pods on a thread of their own, so that a busy controller never makes the API server wait on its watches (which closes other clients\' watches too); it costs 10-20 MiB, and at 1,000 nodes no run showed it shortening an operation. auto: on when the cluster has 500 nodes or more at start-up',
  },
  'kube-api-burst': {
    type: 'int',
    default: 30,
    min: 1,
    description: 'Requests allowed in a burst above -kube-api-qps',
  },
  'leader-elect-exit-on-loss': {
    type: 'bool',
    default: false,
    description: 'Exit when the leader lease is lost (client-go\'s behaviour) instead of stopping work and re-entering the election',
  },
  'shutdown-grace-period': {
    type: 'duration',
    default: 20_000,
    min: 0,
    description: 'On SIGTERM, how long reconciles in flight may finish their step before the controller releases its lease and exits',
  },
} as const satisfies FlagDefs;

export type ControllerFlagValues = FlagValues<typeof CONTROLLER_FLAGS>;

/** Environment variables read by the controller, with defaults (spec §2.2). */
export const CONTROLLER_ENV = {
  KUBEFLEDGED_NAMESPACE: { default: DEFAULT_NAMESPACE, description: 'Namespace of the controller; holds its leader election Lease' },
  KUBEFLEDGED_CRI_CLIENT_IMAGE: { default: DEFAULT_CRI_CLIENT_IMAGE, description: 'Image of the image delete Job pods' },
  BUSYBOX_IMAGE: { default: DEFAULT_BUSYBOX_IMAGE, description: 'Image of the init container of image pull Job pods' },
} as const satisfies EnvVarDefs;

/** The full --help text: every flag with its type and default, then the environment variables. */
export function controllerHelp(): string {
  return `${usage(CONTROLLER_FLAGS, { program: CONTROLLER_PROGRAM })}\n${envUsage(CONTROLLER_ENV)}`;
}

/**
 * Parses the controller's argv (without node and script) and environment.
 * Returns `{ help }` for -h/--help, else `{ config }`; throws FlagError (with `.flag`) on bad input.
 */
export function parseControllerConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): { config: ControllerConfig } | { help: string } {
  const parsed = parseFlags(CONTROLLER_FLAGS, argv);
  if (parsed.help) return { help: controllerHelp() };
  if (parsed.args.length > 0) {
    throw new FlagError(
      `unexpected argument ${JSON.stringify(parsed.args[0])}: ${CONTROLLER_PROGRAM} takes only flags (-name=value); see --help`,
    );
  }
  const v = parsed.values;
  const qps = parseQps(v['kube-api-qps'])!; // validated by the flag's checkQps

  // client-go's checks on the leader election timings (leaderelection.NewLeaderElector).
  const lease = v['leader-elect-lease-duration'];
  const renew = v['leader-elect-renew-deadline'];
  const retry = v['leader-elect-retry-period'];
  if (lease <= renew) {
    throw new FlagError(
      `invalid value "${formatGoDuration(renew)}" for flag -leader-elect-renew-deadline: must be shorter than -leader-elect-lease-duration (${formatGoDuration(lease)})`,
      'leader-elect-renew-deadline',
    );
  }
  if (renew <= 1.2 * retry) {
    throw new FlagError(
      `invalid value "${formatGoDuration(retry)}" for flag -leader-elect-retry-period: -leader-elect-renew-deadline (${formatGoDuration(renew)}) must be more than 1.2 times the retry period`,
      'leader-elect-retry-period',
    );
  }

  const config: ControllerConfig = {
    imagePullDeadlineMs: v['image-pull-deadline-duration'],
    imageCacheRefreshFrequencyMs: v['image-cache-refresh-frequency'],
    imagePullPolicy: v['image-pull-policy'],
    serviceAccountName: v['service-account-name'],
    imageDeleteJobHostNetwork: v['image-delete-job-host-network'],
    jobPriorityClassName: v['job-priority-class-name'],
    jobRetentionPolicy: v['job-retention-policy'],
    criSocketPath: v['cri-socket-path'],
    kubeconfig: v.kubeconfig,
    master: v.master,
    jobsMaxSurge: v['jobs-max-surge'],
    watchThread: v['watch-thread'],
    stderrthreshold: v.stderrthreshold,
    verbosity: v.v,
    logtostderr: v.logtostderr,
    logLevel: glogLogLevel({ v: v.v, logtostderr: v.logtostderr, stderrthreshold: v.stderrthreshold }),
    maxImagesPerJob: v['max-images-per-job'],
    podStartDeadlineMs: v['pod-start-deadline-duration'],
    statusMaxFailedNodesPerImage: v['status-max-failed-nodes-per-image'],
    maxPullPodsPerNode: v['max-pull-pods-per-node'],
    maxPullsPerRegistry: v['max-pulls-per-registry'],
    workloadImages: v['workload-images'],
    workloadImageGraceMs: v['workload-image-grace'],
    warmNodes: v['warm-nodes'],
    warmingDeadlineMs: v['warming-deadline'],
    skipCordonedNodes: v['skip-cordoned-nodes'],
    skipNotReadyNodes: v['skip-not-ready-nodes'],
    targetNodeOs: commaList(v['target-node-os']),
    targetNodeArchitectures: commaList(v['target-node-architectures']),
    leaderElect: v['leader-elect'],
    leaderElectLeaseDurationMs: lease,
    leaderElectRenewDeadlineMs: renew,
    leaderElectRetryPeriodMs: retry,
    leaderElectResourceName: v['leader-elect-resource-name'],
    metricsBindAddress: v['metrics-bind-address'],
    workers: v.workers,
    nodeWatch: v['node-watch'],
    nodeFlapWindowMs: v['node-flap-window'],
    kubeApiQps: qps.qps,
    kubeApiClientLimit: qps.limit,
    kubeApiBurst: v['kube-api-burst'],
    leaderElectExitOnLoss: v['leader-elect-exit-on-loss'],
    shutdownGracePeriodMs: v['shutdown-grace-period'],
    namespace: readEnvVar(env, CONTROLLER_ENV, 'KUBEFLEDGED_NAMESPACE'),
    criClientImage: readEnvVar(env, CONTROLLER_ENV, 'KUBEFLEDGED_CRI_CLIENT_IMAGE'),
    busyboxImage: readEnvVar(env, CONTROLLER_ENV, 'BUSYBOX_IMAGE'),
  };
  return { config };
}

function commaList(value: string): string[] {
  return value.split(',').map((x) => x.trim()).filter((x) => x !== '');
}
