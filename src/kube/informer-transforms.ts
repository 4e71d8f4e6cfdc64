// What the controller keeps of the Nodes, Jobs and pods its informers cache (pure). The API sends whole
// objects: managedFields on every one, a Job's pod template (a container per image, with its command,
// securityContext and volumes), a pod's spec and conditions, a node's addresses, capacity, daemon
// endpoints and the size of every image it holds. At 1,000 nodes that is most of the heap, and the
// controller reads a few fields of it. Each projection below copies exactly the fields its readers use
// (listed per field; test/unit/kube/informer-transforms.test.ts runs the readers on projected objects),
// so a field a reader starts to use must be added here, or the reader sees it missing.
// Every event gives a new object, and no reader changes one: the planners keep what they read of a node,
// a Job and its pods beside the object itself (planning/operation-plan.ts, operation-progress.ts), so an
// object changed in place would be read as it was.
import type * as k8s from '@kubernetes/client-node';
import { DROP_MANAGED_FIELDS, DROP_SPEC_AND_MANAGED_FIELDS, type DropTree } from './watch-line.js';
import { ANNOTATION_WORK, sharedWorkAnnotation } from '../jobs/job-labels.js';
import { sharedCopies } from '../util/memo.js';

/** metadata without managedFields (no reader; the largest part of most objects). */
export function slimMetadata(m: k8s.V1ObjectMeta | undefined): k8s.V1ObjectMeta | undefined {
  if (!m) return m;
  const { managedFields: _dropped, ...rest } = m;
  return rest;
}

/**
 * Nodes, read by planning/node-selection.ts (labels, taints, unschedulable, Ready condition,
 * nodeInfo.operatingSystem/architecture, images' names), planning/operation-plan.ts
 * (nodeInfo.containerRuntimeVersion), planning/warming.ts and operator/node-warmer.ts (taints,
 * creationTimestamp, resourceVersion), operator/controller.ts (name, labels, unschedulable).
 */
export function slimNode(node: k8s.V1Node): k8s.V1Node {
  const info = node.status?.nodeInfo;
  return {
    apiVersion: node.apiVersion,
    kind: node.kind,
    metadata: slimMetadata(node.metadata),
    spec: node.spec && { taints: node.spec.taints, unschedulable: node.spec.unschedulable },
    status: node.status && {
      conditions: node.status.conditions,
      images: node.status.images?.map((i) => ({ names: i.names })),
      nodeInfo: info && ({
        operatingSystem: info.operatingSystem,
        architecture: info.architecture,
        containerRuntimeVersion: info.containerRuntimeVersion,
      } as k8s.V1NodeSystemInfo),
    },
  };
}

/**
 * The controller's Jobs, read by reconcilers/operation-runner.ts and job-tracker.ts, planning/
 * operation-progress.ts and jobs/job-results.ts: metadata (name, namespace, uid, labels, the work
 * annotation, creationTimestamp) and status (conditions, counts). Nothing reads the spec: what a Job
 * pulls is in its annotation (jobs/job-labels.ts), not in its pod template.
 */
export function slimJob(job: k8s.V1Job): k8s.V1Job {
  return { apiVersion: job.apiVersion, kind: job.kind, metadata: slimMetadata(job.metadata), status: job.status };
}

/**
 * The controller's pods, read by jobs/job-results.ts (ownerReferences, creationTimestamp, phase,
 * reason, message, containerStatuses), planning/operation-progress.ts (phase, container and init
 * container statuses, the PodScheduled condition: why a pod did not start) and
 * reconcilers/operation-runner.ts (name, ownerReferences). Nothing reads the spec. Of a container's
 * status the readers use its name and state (slimContainerStatus).
 */
export function slimPod(pod: k8s.V1Pod): k8s.V1Pod {
  const s = pod.status;
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: slimMetadata(pod.metadata),
    status: s && {
      phase: s.phase,
      reason: s.reason,
      message: s.message,
      startTime: s.startTime,
      conditions: s.conditions?.filter((c) => c.type === 'PodScheduled'),
      containerStatuses: s.containerStatuses?.map(slimContainerStatus),
      initContainerStatuses: s.initContainerStatuses?.map(slimContainerStatus),
    },
  };
}

/**
 * A container's status as jobs/job-results.ts and reconcilers/awaited-jobs.ts read it: its name and
 * whether it waits (reason, message), runs, or ended (exit code, reason, message: a delete Job's
 * answer). Not its image, IDs, restart count, readiness or times: at 50 containers a pod's statuses
 * were most of what the pod cache held.
 */
export function slimContainerStatus(c: k8s.V1ContainerStatus): k8s.V1ContainerStatus {
  const st = c.state;
  const state: k8s.V1ContainerState = {};
  if (st?.waiting) state.waiting = { reason: st.waiting.reason, message: st.waiting.message };
  if (st?.running) state.running = {};
  if (st?.terminated) state.terminated = { exitCode: st.terminated.exitCode, reason: st.terminated.reason, message: st.terminated.message };
  return { name: c.name, state } as k8s.V1ContainerStatus;
}

/** The one frozen copy of each distinct slim container status (sharePod). */
const sharedContainerStatus = sharedCopies<k8s.V1ContainerStatus>((c) => {
  const { waiting: w, running: r, terminated: t } = c.state ?? {};
  return JSON.stringify([c.name, w ? [w.reason, w.message] : 0, r ? 1 : 0, t ? [t.exitCode, t.reason, t.message] : 0]);
}, (c) => {
  const st = c.state;
  if (st) {
    for (const part of [st.waiting, st.running, st.terminated]) if (part) Object.freeze(part);
    Object.freeze(st);
  }
  return Object.freeze(c);
});

/**
 * A slim pod (slimPod) whose container statuses are shared, frozen objects: the 50 containers of a pull
 * pod have the same 50 statuses on every node ("imagepuller-7", terminated, exit code 0, Completed), and
 * each pod event brings them again as new objects and strings (a JSON parse, a structured clone).
 * Applied on the main thread to every object an informer caches (kube/informers.ts), in place: the
 * object is the informer's own, just read. Readers never change a status (see the head of this file).
 */
export function sharePod(pod: k8s.V1Pod): k8s.V1Pod {
  const s = pod.status;
  if (s?.containerStatuses) s.containerStatuses = s.containerStatuses.map(sharedContainerStatus);
  if (s?.initContainerStatuses) s.initContainerStatuses = s.initContainerStatuses.map(sharedContainerStatus);
  return pod;
}

/** The one frozen `{ names }` of each distinct list of an image's names (shareNode). */
const sharedNodeImage = sharedCopies<k8s.V1ContainerImage>((i) => JSON.stringify(i.names ?? null), (i) => {
  if (i.names) Object.freeze(i.names);
  return Object.freeze(i);
});

/**
 * A slim node (slimNode) whose images are shared, frozen objects: the nodes of a pool hold the same
 * images (a cache's 50 on each of 1,000 nodes, a tag and a digest each), and each node event brings
 * them all again as new strings. In place, on the main thread (as sharePod).
 */
export function shareNode(node: k8s.V1Node): k8s.V1Node {
  const s = node.status;
  if (s?.images) s.images = s.images.map(sharedNodeImage);
  return node;
}

/** A slim Job whose work annotation is the one copy of its text the controller keeps (sharedWorkAnnotation), in place. */
export function shareJob(job: k8s.V1Job): k8s.V1Job {
  const a = job.metadata?.annotations;
  const raw = a?.[ANNOTATION_WORK];
  if (a && raw) a[ANNOTATION_WORK] = sharedWorkAnnotation(raw);
  return job;
}

/**
 * The controller's informers by the kind of object they cache: what their watch events skip unparsed
 * (watch-line.ts), the projection of every object, and what of it is shared with equal objects already
 * kept (`share`, on the main thread: the projection may run on the watch thread, whose objects reach
 * the main thread as copies). A name, not functions, so that the watch thread (watch-thread.ts)
 * applies the same shape to what it reads.
 */
export const INFORMER_SHAPES = {
  node: { drop: DROP_MANAGED_FIELDS, transform: slimNode, share: shareNode },
  job: { drop: DROP_SPEC_AND_MANAGED_FIELDS, transform: slimJob, share: shareJob },
  pod: { drop: DROP_SPEC_AND_MANAGED_FIELDS, transform: slimPod, share: sharePod },
} as const satisfies Record<string, { drop: DropTree; transform: (obj: never) => unknown; share: ((obj: never) => unknown) | undefined }>;

export type InformerShape = keyof typeof INFORMER_SHAPES;
