// The JobFactory (pure): builds the pull and delete Jobs of one operation on one node.
// One Job per node per operation (per chunk of at most maxImagesPerJob images), one container per image.
import type { V1Container, V1Job, V1PodSpec, V1Volume, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type ImageCache } from '../api/imagecache.js';
import { HOSTNAME_LABEL, WARMING_TAINT_KEY } from '../api/constants.js';
import { imageKey, type ImageWork, type NodeWork, type PullPolicy } from '../planning/operation-plan.js';
import { isLatestOrUntagged } from '../images/image-reference.js';
import { buildCriClientContainer, buildCriSocketVolume, selectCriSocket } from '../cri/runtime-socket.js';
import { ANNOTATION_WORK, jobLabels, jobName, type JobWork } from './job-labels.js';

export interface JobSettings {
  pullPolicy: PullPolicy;
  serviceAccountName: string;
  jobPriorityClassName: string;
  imageDeleteJobHostNetwork: boolean;
  criSocketPath: string;
  criClientImage: string;
  busyboxImage: string;
  /** --image-pull-deadline-duration: the Job's own activeDeadlineSeconds never cuts a pull short of it. */
  imagePullDeadlineMs: number;
  /**
   * Namespace of delete Jobs: they mount the runtime socket and run as root, which Pod Security
   * "baseline"/"restricted" forbid, so they run in the controller's own namespace (labelled to allow
   * them) rather than the cache's. "" = the cache's namespace (the original's behaviour).
   */
  deleteJobNamespace: string;
}

export interface JobTarget {
  cache: ImageCache;
  operationId: string;
  node: NodeWork;
  images: ImageWork[];
  /** How many times this work's Job was made before in this operation (jobName); 0 or absent the first time. */
  attempt?: number;
}

/** Hard cap of the original (3600 s), raised when the pull deadline is longer. */
export function activeDeadlineSeconds(imagePullDeadlineMs: number): number {
  return Math.max(3600, Math.ceil(imagePullDeadlineMs / 1000) + 300);
}

/** Container pull policy of spec §3.3: Always for Always; IfNotPresent except :latest or untagged images. */
export function containerPullPolicy(image: string, policy: PullPolicy): 'Always' | 'IfNotPresent' {
  if (policy === 'Always') return 'Always';
  return isLatestOrUntagged(image) ? 'Always' : 'IfNotPresent';
}

function ownerReference(cache: ImageCache): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cache.metadata.name ?? '',
    uid: cache.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The namespace a Job of this action runs in. */
export function jobNamespace(cache: ImageCache, action: 'pull' | 'delete', s: Pick<JobSettings, 'deleteJobNamespace'>): string {
  return action === 'delete' && s.deleteJobNamespace ? s.deleteJobNamespace : (cache.metadata.namespace ?? '');
}

/** The name of the Job of this work (jobName): known before the Job is built. */
export function jobNameOf(t: JobTarget, action: 'pull' | 'delete'): string {
  return jobName(t.cache.metadata.name ?? '', t.operationId, t.node.node, action, t.images.map((w) => imageKey(w.image)), t.attempt);
}

function baseJob(t: JobTarget, action: 'pull' | 'delete', work: JobWork, pod: V1PodSpec, s: JobSettings): V1Job {
  const name = t.cache.metadata.name ?? '';
  const namespace = jobNamespace(t.cache, action, s);
  const sameNamespace = namespace === t.cache.metadata.namespace;
  const labels = jobLabels(name, t.cache.metadata.uid ?? '', t.operationId, action, t.cache.metadata.namespace);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameOf(t, action),
      namespace,
      labels,
      annotations: { [ANNOTATION_WORK]: JSON.stringify(work) },
      // owner references cannot cross namespaces: a Job elsewhere is deleted by the controller itself
      ...(sameNamespace ? { ownerReferences: [ownerReference(t.cache)] } : {}),
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: activeDeadlineSeconds(s.imagePullDeadlineMs),
      template: {
        metadata: { namespace, labels },
        spec: {
          nodeSelector: { [HOSTNAME_LABEL]: t.node.hostname },
          restartPolicy: 'Never',
          // the entry's tolerations; absent = every taint, as the original
          tolerations: t.node.tolerations
            ? [...t.node.tolerations, { key: WARMING_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' }]
            : [{ operator: 'Exists' }],
          // the cache's pull secrets serve its pull Jobs (they live in its namespace)
          ...(action === 'pull' && t.cache.spec.imagePullSecrets?.length
            ? { imagePullSecrets: t.cache.spec.imagePullSecrets.map((r) => ({ name: r.name })) }
            : {}),
          ...(s.serviceAccountName ? { serviceAccountName: s.serviceAccountName } : {}),
          ...(s.jobPriorityClassName ? { priorityClassName: s.jobPriorityClassName } : {}),
          ...pod,
        },
      },
    },
  };
}

const restrictedContainerSecurity = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
};

/**
 * Pull Job: an init container copies busybox's static echo into an emptyDir; each image runs as one
 * container executing that echo (works for images without a shell; overrides the image's entrypoint).
 * The pod passes Pod Security "restricted".
 */
export function buildPullJob(t: JobTarget, s: JobSettings): V1Job {
  const containers: V1Container[] = [];
  const work: JobWork = { node: t.node.node, hostname: t.node.hostname, action: 'pull', containers: {} };
  t.images.forEach((w, i) => {
    const cname = `imagepuller-${i}`;
    work.containers[cname] = w.specImages;
    containers.push({
      name: cname,
      image: w.image,
      command: ['/tmp/bin/echo', 'Image pulled successfully!'],
      imagePullPolicy: containerPullPolicy(w.image, s.pullPolicy),
      volumeMounts: [{ name: 'tmp-bin', mountPath: '/tmp/bin', readOnly: true }],
      securityContext: restrictedContainerSecurity,
      resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
  });
  const volumes: V1Volume[] = [{ name: 'tmp-bin', emptyDir: { sizeLimit: '16Mi' } }];
  return baseJob(t, 'pull', work, {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [
      {
        name: 'busybox',
        image: s.busyboxImage,
        command: ['cp', '/bin/echo', '/tmp/bin'],
        imagePullPolicy: 'IfNotPresent',
        volumeMounts: [{ name: 'tmp-bin', mountPath: '/tmp/bin' }],
        securityContext: restrictedContainerSecurity,
        resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
      },
    ],
    containers,
    volumes,
  }, s);
}

export type DeleteJobResult = { ok: true; job: V1Job } | { ok: false; reason: string; message: string };

/**
 * Delete Job: one container per image, each running the project's CRI client (`rmi`, no shell) against
 * the node's runtime socket (chosen from --cri-socket-path or the node's containerRuntimeVersion).
 * An unknown runtime gives no Job but a clear failure for every image.
 */
export function buildDeleteJob(t: JobTarget, s: JobSettings): DeleteJobResult {
  const socket = selectCriSocket(t.node.runtimeVersion, s.criSocketPath);
  if (!socket.ok) return { ok: false, reason: socket.reason, message: socket.message };
  const work: JobWork = { node: t.node.node, hostname: t.node.hostname, action: 'delete', containers: {} };
  const containers = t.images.map((w, i) => {
    const cname = `cri-client-${i}`;
    work.containers[cname] = w.specImages;
    return buildCriClientContainer({ image: s.criClientImage, socketPath: socket.socketPath, images: [w.image], name: cname });
  });
  const job = baseJob(t, 'delete', work, {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    hostNetwork: s.imageDeleteJobHostNetwork,
    containers,
    volumes: [buildCriSocketVolume(socket.socketPath)],
  }, s);
  return { ok: true, job };
}
