// Test helper: runs a container through CRI RuntimeService (RunPodSandbox, CreateContainer,
// StartContainer) so that an image is "in use", and tears it down again. The messages below are the
// CRI fields this needs, with upstream field numbers (k8s.io/cri-api runtime/v1/api.proto); the
// production client does not carry them.
import protobuf from 'protobufjs';
import { CRI_API_PROTO } from '../../../src/cri/cri-api-proto.js';
import { CriConnection } from '../../../src/cri/cri-connection.js';
import type { CriEndpoint } from '../../../src/cri/cri-endpoint.js';

const SANDBOX_PROTO = `
syntax = "proto3";
package runtime.v1;

enum NamespaceMode {
  POD = 0;
  CONTAINER = 1;
  NODE = 2;
  TARGET = 3;
}
message NamespaceOption {
  NamespaceMode network = 1;
  NamespaceMode pid = 2;
  NamespaceMode ipc = 3;
}
message LinuxSandboxSecurityContext {
  NamespaceOption namespace_options = 1;
}
message LinuxPodSandboxConfig {
  string cgroup_parent = 1;
  LinuxSandboxSecurityContext security_context = 2;
}
message PodSandboxMetadata {
  string name = 1;
  string uid = 2;
  string namespace = 3;
  uint32 attempt = 4;
}
message PodSandboxConfig {
  PodSandboxMetadata metadata = 1;
  string hostname = 2;
  string log_directory = 3;
  map<string, string> labels = 6;
  map<string, string> annotations = 7;
  LinuxPodSandboxConfig linux = 8;
}
message RunPodSandboxRequest {
  PodSandboxConfig config = 1;
  string runtime_handler = 2;
}
message RunPodSandboxResponse {
  string pod_sandbox_id = 1;
}
message StopPodSandboxRequest {
  string pod_sandbox_id = 1;
}
message StopPodSandboxResponse {}
message RemovePodSandboxRequest {
  string pod_sandbox_id = 1;
}
message RemovePodSandboxResponse {}

message LinuxContainerSecurityContext {
  NamespaceOption namespace_options = 3;
}
message LinuxContainerConfig {
  LinuxContainerSecurityContext security_context = 2;
}
message ContainerConfig {
  ContainerMetadata metadata = 1;
  ImageSpec image = 2;
  repeated string command = 3;
  repeated string args = 4;
  map<string, string> labels = 9;
  string log_path = 11;
  LinuxContainerConfig linux = 15;
}
message CreateContainerRequest {
  string pod_sandbox_id = 1;
  ContainerConfig config = 2;
  PodSandboxConfig sandbox_config = 3;
}
message CreateContainerResponse {
  string container_id = 1;
}
message StartContainerRequest {
  string container_id = 1;
}
message StartContainerResponse {}
message StopContainerRequest {
  string container_id = 1;
  int64 timeout = 2;
}
message StopContainerResponse {}
message RemoveContainerRequest {
  string container_id = 1;
}
message RemoveContainerResponse {}
message ContainerStatusRequest {
  string container_id = 1;
  bool verbose = 2;
}
message ContainerStatus {
  string id = 1;
  ContainerState state = 3;
  int32 exit_code = 7;
  string reason = 10;
  string message = 11;
}
message ContainerStatusResponse {
  ContainerStatus status = 1;
}
`;

function sandboxRoot(): protobuf.Root {
  const root = protobuf.parse(CRI_API_PROTO).root;
  protobuf.parse(SANDBOX_PROTO, root);
  return root;
}

export interface RunningContainer {
  sandboxId: string;
  containerId: string;
}

export interface ContainerStatusView {
  state: string;
  exitCode: number;
  reason: string;
  message: string;
}

/** A pod sandbox on the host network (no CNI needed) with one container, driven through CRI. */
export class CriSandbox {
  private readonly conn: CriConnection;

  constructor(endpoint: CriEndpoint) {
    this.conn = new CriConnection(endpoint, { protoRoot: sandboxRoot(), apiVersion: 'v1' });
  }

  /** Starts `image` (its entrypoint) in a new host-network sandbox named `name`. */
  async run(name: string, image: string, logDirectory: string): Promise<RunningContainer> {
    const hostNetwork = { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } };
    // cgroups under /kubefledged-cri-test (hack/containerd/down.sh removes it), not the host's /k8s.io
    const cgroupParent = '/kubefledged-cri-test';
    const sandboxConfig = {
      metadata: { name, uid: `uid-${name}`, namespace: 'kf-cri-test', attempt: 0 },
      logDirectory,
      labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'kf-cri-test' },
      linux: { cgroupParent, securityContext: hostNetwork },
    };
    const { podSandboxId } = await this.conn.call<{ podSandboxId: string }>('RuntimeService', 'RunPodSandbox', { config: sandboxConfig }, 120_000);
    try {
      const { containerId } = await this.conn.call<{ containerId: string }>(
        'RuntimeService',
        'CreateContainer',
        {
          podSandboxId,
          config: {
            metadata: { name: 'sleeper', attempt: 0 },
            image: { image },
            labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'kf-cri-test' },
            logPath: 'sleeper.log',
            linux: { securityContext: hostNetwork },
          },
          sandboxConfig,
        },
        60_000,
      );
      await this.conn.call('RuntimeService', 'StartContainer', { containerId }, 60_000);
      return { sandboxId: podSandboxId, containerId };
    } catch (err) {
      await this.remove({ sandboxId: podSandboxId, containerId: '' });
      throw err;
    }
  }

  status(containerId: string): Promise<ContainerStatusView> {
    return this.conn
      .call<{ status: ContainerStatusView }>('RuntimeService', 'ContainerStatus', { containerId }, 10_000)
      .then((res) => res.status);
  }

  /** Stops and removes the container and its sandbox; each step tolerates what is already gone. */
  async remove(running: RunningContainer): Promise<void> {
    if (running.containerId !== '') {
      await this.conn.call('RuntimeService', 'StopContainer', { containerId: running.containerId, timeout: 0 }, 30_000).catch(() => undefined);
      await this.conn.call('RuntimeService', 'RemoveContainer', { containerId: running.containerId }, 30_000).catch(() => undefined);
    }
    await this.conn.call('RuntimeService', 'StopPodSandbox', { podSandboxId: running.sandboxId }, 30_000).catch(() => undefined);
    await this.conn.call('RuntimeService', 'RemovePodSandbox', { podSandboxId: running.sandboxId }, 30_000);
  }

  close(): void {
    this.conn.close();
  }
}
