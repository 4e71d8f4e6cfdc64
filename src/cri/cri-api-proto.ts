// The subset of the Kubernetes CRI API (k8s.io/cri-api, pkg/apis/runtime/v1/api.proto) that the
// kube-fledged CRI client uses, written out here with the upstream field numbers. Only these fields
// travel; protobuf ignores the rest, so this stays wire-compatible with every CRI runtime.
// The same messages serve runtime.v1alpha2 (identical numbers for these fields); the gRPC path picks
// the API version (see cri-connection.ts).
// Kept as a TypeScript string so the compiled dist/ needs no .proto file beside it.
import protobuf from 'protobufjs';

export const CRI_API_PROTO = `
syntax = "proto3";
package runtime.v1;

message ImageSpec {
  string image = 1;
  map<string, string> annotations = 2;
  string user_specified_image = 18;
}

message Int64Value {
  int64 value = 1;
}

message Image {
  string id = 1;
  repeated string repo_tags = 2;
  repeated string repo_digests = 3;
  uint64 size = 4;
  Int64Value uid = 5;
  string username = 6;
  ImageSpec spec = 7;
  bool pinned = 8;
}

message ImageFilter {
  ImageSpec image = 1;
}
message ListImagesRequest {
  ImageFilter filter = 1;
}
message ListImagesResponse {
  repeated Image images = 1;
}

message ImageStatusRequest {
  ImageSpec image = 1;
  bool verbose = 2;
}
message ImageStatusResponse {
  Image image = 1;
  map<string, string> info = 2;
}

message AuthConfig {
  string username = 1;
  string password = 2;
  string auth = 3;
  string server_address = 4;
  string identity_token = 5;
  string registry_token = 6;
}
message PullImageRequest {
  ImageSpec image = 1;
  AuthConfig auth = 2;
}
message PullImageResponse {
  string image_ref = 1;
}

message RemoveImageRequest {
  ImageSpec image = 1;
}
message RemoveImageResponse {}

message VersionRequest {
  string version = 1;
}
message VersionResponse {
  string version = 1;
  string runtime_name = 2;
  string runtime_version = 3;
  string runtime_api_version = 4;
}

enum ContainerState {
  CONTAINER_CREATED = 0;
  CONTAINER_RUNNING = 1;
  CONTAINER_EXITED = 2;
  CONTAINER_UNKNOWN = 3;
}
message ContainerStateValue {
  ContainerState state = 1;
}
message ContainerFilter {
  string id = 1;
  ContainerStateValue state = 2;
  string pod_sandbox_id = 3;
  map<string, string> label_selector = 4;
}
message ListContainersRequest {
  ContainerFilter filter = 1;
}
message ContainerMetadata {
  string name = 1;
  uint32 attempt = 2;
}
message Container {
  string id = 1;
  string pod_sandbox_id = 2;
  ContainerMetadata metadata = 3;
  ImageSpec image = 4;
  string image_ref = 5;
  ContainerState state = 6;
  int64 created_at = 7;
  map<string, string> labels = 8;
  map<string, string> annotations = 9;
  string image_id = 10;
}
message ListContainersResponse {
  repeated Container containers = 1;
}
`;

// ---- TypeScript shapes of the decoded messages (protobufjs camelCases the field names) ----------

export interface ImageSpec {
  image: string;
  annotations?: Record<string, string>;
  userSpecifiedImage?: string;
}

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** Bytes; a JavaScript number (exact below 2^53, i.e. 8 PiB). */
  size: number;
  uid?: { value: number } | null;
  username: string;
  spec?: ImageSpec | null;
  pinned: boolean;
}

export interface ImageStatusResponse {
  image?: CriImage | null;
  info: Record<string, string>;
}

export interface ListImagesResponse {
  images: CriImage[];
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface PullImageResponse {
  imageRef: string;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata?: { name: string; attempt: number } | null;
  image?: ImageSpec | null;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  imageId: string;
}

export interface ListContainersResponse {
  containers: CriContainer[];
}

let cachedRoot: protobuf.Root | undefined;

/** The parsed CRI subset (parsed once per process). */
export function criApiRoot(): protobuf.Root {
  cachedRoot ??= protobuf.parse(CRI_API_PROTO).root;
  return cachedRoot;
}

