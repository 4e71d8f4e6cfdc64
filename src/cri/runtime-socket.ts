// Which CRI socket a delete Job talks to on a node, and the container/volume that reach it.
// Pure: node facts and flags in, decisions and Kubernetes objects out (spec §3.4, improved):
//  - `--cri-socket-path` wins for every node (as the original intended; v0.10.0 ignored it, #188);
//  - else by the runtime scheme of node.status.nodeInfo.containerRuntimeVersion ("containerd://1.7.2"):
//    containerd -> /run/containerd/containerd.sock (k3s/RKE2 builds, "...-k3s1" -> /run/k3s/containerd/containerd.sock, #171),
//    cri-o -> /var/run/crio/crio.sock, docker -> cri-dockerd's /var/run/cri-dockerd.sock
//    (dockershim is gone; CRI on a docker node is cri-dockerd);
//  - anything else -> not ok, with a reason the controller reports without creating a pod.
//  - the pod mounts the socket's DIRECTORY (hostPath type Directory), never the socket itself with
//    type Socket: a wrong socket path then fails the client at once with a clear message instead of
//    leaving the pod in ContainerCreating forever (#89).
import path from 'node:path';
import type { V1Container, V1SecurityContext, V1Volume } from '@kubernetes/client-node';

export type CriRuntimeName = 'containerd' | 'cri-o' | 'docker';

export type CriSocketSelection =
  | {
      ok: true;
      /** The runtime the node reports; "unknown" only when --cri-socket-path names the socket anyway. */
      runtime: CriRuntimeName | 'unknown';
      /** Host path of the socket. */
      socketPath: string;
      /** The endpoint as seen on the host, "unix://<socketPath>". */
      endpoint: string;
      /** True when --cri-socket-path chose the socket. */
      fromFlag: boolean;
    }
  | { ok: false; reason: string; message: string };

/** Reasons of a refused selection (ImageCache failures[].reason). */
export const CriSocketReason = {
  UnknownContainerRuntime: 'UnknownContainerRuntime',
  ContainerRuntimeNotReported: 'ContainerRuntimeNotReported',
  InvalidCriSocketPath: 'InvalidCriSocketPath',
} as const;

export const DEFAULT_CRI_SOCKETS: Readonly<Record<CriRuntimeName, string>> = {
  containerd: '/run/containerd/containerd.sock',
  'cri-o': '/var/run/crio/crio.sock',
  docker: '/var/run/cri-dockerd.sock',
};

/** k3s and RKE2 run their own containerd ("containerd://1.7.11-k3s2") on this socket. */
export const K3S_CONTAINERD_SOCKET = '/run/k3s/containerd/containerd.sock';

/** The runtime named by a containerRuntimeVersion ("cri-o://1.29.1" -> "cri-o"), or undefined. */
export function runtimeFromVersion(containerRuntimeVersion: string): CriRuntimeName | undefined {
  const scheme = /^([a-z0-9.+-]+):\/\//i.exec(containerRuntimeVersion.trim())?.[1]?.toLowerCase();
  switch (scheme) {
    case 'containerd':
      return 'containerd';
    case 'cri-o':
    case 'crio':
      return 'cri-o';
    case 'docker':
      return 'docker';
    default:
      return undefined;
  }
}

/** Validates --cri-socket-path: an absolute path, optionally written as unix:///path. */
function socketPathFromFlag(flag: string): { ok: true; socketPath: string } | { ok: false; message: string } {
  let value = flag.trim();
  if (value.startsWith('unix://')) value = value.slice('unix://'.length);
  const fix = 'give the host path of the runtime socket, e.g. --cri-socket-path=/run/containerd/containerd.sock';
  if (!path.posix.isAbsolute(value)) {
    return { ok: false, message: `--cri-socket-path ${JSON.stringify(flag)} is not an absolute path; ${fix}` };
  }
  const normalized = path.posix.normalize(value);
  if (normalized === '/' || normalized.endsWith('/')) {
    return { ok: false, message: `--cri-socket-path ${JSON.stringify(flag)} names a directory, not a socket; ${fix}` };
  }
  return { ok: true, socketPath: normalized };
}

export function selectCriSocket(containerRuntimeVersion: string, criSocketPathFlag: string): CriSocketSelection {
  const version = (containerRuntimeVersion ?? '').trim();
  const runtime = runtimeFromVersion(version);

  if (criSocketPathFlag !== undefined && criSocketPathFlag.trim() !== '') {
    const fromFlag = socketPathFromFlag(criSocketPathFlag);
    if (!fromFlag.ok) return { ok: false, reason: CriSocketReason.InvalidCriSocketPath, message: fromFlag.message };
    return { ok: true, runtime: runtime ?? 'unknown', socketPath: fromFlag.socketPath, endpoint: `unix://${fromFlag.socketPath}`, fromFlag: true };
  }

  if (version === '') {
    return {
      ok: false,
      reason: CriSocketReason.ContainerRuntimeNotReported,
      message:
        'the node reports no container runtime (status.nodeInfo.containerRuntimeVersion is empty), so the CRI socket is unknown; wait for the node to become Ready or set --cri-socket-path',
    };
  }
  if (runtime === undefined) {
    return {
      ok: false,
      reason: CriSocketReason.UnknownContainerRuntime,
      message: `the node's container runtime ${JSON.stringify(version)} is not one kube-fledged knows (containerd, cri-o, docker with cri-dockerd); set --cri-socket-path to its CRI socket`,
    };
  }
  const socketPath = runtime === 'containerd' && /k3s/i.test(version) ? K3S_CONTAINERD_SOCKET : DEFAULT_CRI_SOCKETS[runtime];
  return { ok: true, runtime, socketPath, endpoint: `unix://${socketPath}`, fromFlag: false };
}

// ---- the delete container and its volume --------------------------------------------------------

export const CRI_CLIENT_CONTAINER_NAME = 'cri-client';
/** Where the project's image installs the client (see the Dockerfile: entrypoints under /opt/bin). */
export const CRI_CLIENT_COMMAND = '/opt/bin/kubefledged-cri-client';
export const CRI_SOCKET_VOLUME_NAME = 'cri-socket-dir';
/** Where the socket's host directory appears inside the delete container. */
export const CRI_SOCKET_MOUNT_PATH = '/run/kubefledged/cri';

/** hostPath volume of the socket's directory, type Directory (exists or the pod fails fast). */
export function buildCriSocketVolume(socketPath: string): V1Volume {
  return {
    name: CRI_SOCKET_VOLUME_NAME,
    hostPath: { path: path.posix.dirname(socketPath), type: 'Directory' },
  };
}

/** The socket's endpoint as seen inside the delete container. */
export function containerCriEndpoint(socketPath: string): string {
  return `unix://${CRI_SOCKET_MOUNT_PATH}/${path.posix.basename(socketPath)}`;
}

export interface CriClientContainerInput {
  /** The project's image (KUBEFLEDGED_CRI_CLIENT_IMAGE). */
  image: string;
  /** Host path of the CRI socket (selectCriSocket().socketPath). */
  socketPath: string;
  /** Images to remove; passed as separate arguments after "--" (no shell, no flag injection). */
  images: readonly string[];
  pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Container name; default "cri-client" (pods with several delete containers need distinct names). */
  name?: string;
}

/**
 * Root (the CRI socket is root-only) but nothing else: no capabilities, no privilege escalation,
 * read-only root file system (the termination log is kubelet's own mount).
 */
export const CRI_CLIENT_SECURITY_CONTEXT: V1SecurityContext = {
  runAsUser: 0,
  runAsNonRoot: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

export function buildCriClientContainer(input: CriClientContainerInput): V1Container {
  if (input.images.length === 0) throw new Error('buildCriClientContainer: images is empty; give at least one image to remove');
  if (input.image.trim() === '') throw new Error('buildCriClientContainer: image is empty; set KUBEFLEDGED_CRI_CLIENT_IMAGE');
  return {
    name: input.name ?? CRI_CLIENT_CONTAINER_NAME,
    image: input.image,
    imagePullPolicy: input.pullPolicy ?? 'IfNotPresent',
    command: [CRI_CLIENT_COMMAND],
    args: ['rmi', '--runtime-endpoint', containerCriEndpoint(input.socketPath), '--', ...input.images],
    volumeMounts: [{ name: CRI_SOCKET_VOLUME_NAME, mountPath: CRI_SOCKET_MOUNT_PATH, readOnly: true }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: { ...CRI_CLIENT_SECURITY_CONTEXT, capabilities: { drop: ['ALL'] } },
  };
}
