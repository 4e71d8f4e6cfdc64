// CRI endpoints as crictl spells them: "unix:///run/containerd/containerd.sock" (also "unix:/path" or
// a bare absolute path). Parsing is pure; checkSocket() looks at the file system once so that a wrong
// socket path is reported at once and by name, instead of as a gRPC connect timeout.
import { stat } from 'node:fs/promises';

export interface CriEndpoint {
  /** As given by the user (for messages). */
  raw: string;
  /** Absolute path of the unix socket. */
  socketPath: string;
  /** The gRPC target, "unix:///path". */
  target: string;
}

export type CriEndpointParseResult = { ok: true; endpoint: CriEndpoint } | { ok: false; error: string };

/** crictl's default endpoints, tried in this order when none is configured. */
export const DEFAULT_RUNTIME_ENDPOINTS: readonly string[] = [
  'unix:///run/containerd/containerd.sock',
  'unix:///var/run/crio/crio.sock',
  'unix:///var/run/cri-dockerd.sock',
];

/** Longest unix socket path Linux accepts (sun_path is 108 bytes including the NUL). */
const UNIX_PATH_MAX = 107;

export function parseCriEndpoint(raw: string): CriEndpointParseResult {
  const example = 'write it as unix:///run/containerd/containerd.sock';
  const value = raw.trim();
  if (value === '') return { ok: false, error: `the endpoint is empty; ${example}` };
  let path: string;
  if (value.startsWith('unix://')) {
    path = value.slice('unix://'.length);
  } else if (value.startsWith('unix:')) {
    path = value.slice('unix:'.length);
  } else if (value.startsWith('/')) {
    path = value;
  } else {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value)?.[1];
    return {
      ok: false,
      error: scheme
        ? `the endpoint scheme "${scheme}:" is not supported (only unix sockets are); ${example}`
        : `the endpoint "${value}" is not an absolute socket path; ${example}`,
    };
  }
  if (!path.startsWith('/')) {
    return { ok: false, error: `the socket path "${path}" is not absolute; ${example}` };
  }
  if (path.includes('\0')) return { ok: false, error: 'the socket path contains a NUL character' };
  if (Buffer.byteLength(path) > UNIX_PATH_MAX) {
    return { ok: false, error: `the socket path is ${Buffer.byteLength(path)} bytes long; unix sockets allow at most ${UNIX_PATH_MAX}` };
  }
  return { ok: true, endpoint: { raw: value, socketPath: path, target: `unix://${path}` } };
}

export type SocketCheck = { ok: true } | { ok: false; error: string };

/** Is there a unix socket at the endpoint's path? The error names the path and the likely fix. */
export async function checkSocket(endpoint: CriEndpoint): Promise<SocketCheck> {
  try {
    const st = await stat(endpoint.socketPath);
    if (!st.isSocket()) {
      return { ok: false, error: `${endpoint.socketPath} exists but is not a unix socket; point the endpoint at the runtime's CRI socket` };
    }
    return { ok: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return {
        ok: false,
        error: `no CRI socket at ${endpoint.socketPath}; check the runtime's socket path (kube-fledged: --cri-socket-path)`,
      };
    }
    if (code === 'EACCES') {
      return { ok: false, error: `permission denied on ${endpoint.socketPath}; the CRI client must run as root on the node` };
    }
    return { ok: false, error: `cannot inspect ${endpoint.socketPath}: ${(err as Error).message}` };
  }
}
