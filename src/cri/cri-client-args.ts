// Command line of kubefledged-cri-client, crictl-like. Pure: argv + env in, a command or an error out.
//
//   kubefledged-cri-client [global flags] <command> [command flags] [--] [args...]
// Global flags may also follow the command. "--" ends the flags (images never start with "-" anyway).
import type { CriApiVersion } from './cri-connection.js';

export const CRI_CLIENT_NAME = 'kubefledged-cri-client';

export interface GlobalOptions {
  /** --runtime-endpoint / -r, else env CONTAINER_RUNTIME_ENDPOINT. */
  runtimeEndpoint?: string;
  /** --image-endpoint / -i, else env IMAGE_SERVICE_ENDPOINT; defaults to the runtime endpoint. */
  imageEndpoint?: string;
  /** --timeout / -t: connect deadline and deadline of each call except PullImage. */
  timeoutMs: number;
  /** --pull-timeout: deadline of PullImage. */
  pullTimeoutMs: number;
  /** --termination-log (flag only; env handled by resolveTerminationLog). */
  terminationLog?: string;
  /** --cri-api: v1, v1alpha2, or auto (v1, then v1alpha2 on UNIMPLEMENTED). */
  apiVersion: CriApiVersion | 'auto';
}

export type CriClientCommand =
  | { name: 'rmi'; images: string[] }
  | { name: 'pull'; images: string[] }
  | { name: 'images'; filter?: string; quiet: boolean; output: 'table' | 'json' }
  | { name: 'inspecti'; images: string[] }
  | { name: 'version' }
  | { name: 'help' };

export type CriClientArgs = { ok: true; options: GlobalOptions; command: CriClientCommand } | { ok: false; error: string };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_PULL_TIMEOUT_MS = 10 * 60_000;

export const USAGE = `Usage: ${CRI_CLIENT_NAME} [flags] <command> [command flags] [--] [args...]

Talks to the node's container runtime over CRI (gRPC on its unix socket). No shell involved.

Commands:
  rmi IMAGE...        remove images; an image absent from the node counts as success
  pull IMAGE...       pull images
  images [REF]        list images (-q: IDs only, -o table|json)
  inspecti IMAGE...   show the runtime's ImageStatus of images as JSON
  version             show the runtime's name and version

Flags:
  -r, --runtime-endpoint URL   CRI runtime socket, e.g. unix:///run/containerd/containerd.sock
                               (env CONTAINER_RUNTIME_ENDPOINT; default: the first of containerd,
                               cri-o, cri-dockerd sockets that exists)
  -i, --image-endpoint URL     CRI image service socket (env IMAGE_SERVICE_ENDPOINT; default: runtime endpoint)
  -t, --timeout DURATION       connect and call deadline, e.g. 2s, 500ms (default 10s)
      --pull-timeout DURATION  deadline of one pull (default 10m)
      --termination-log PATH   where to write the one-line result (env KUBEFLEDGED_TERMINATION_LOG;
                               default /dev/termination-log when it exists)
      --cri-api VERSION        v1, v1alpha2 or auto (default auto)
  -h, --help                   this help

Exit codes: 0 success, 1 an image failed, 2 usage error, 3 runtime unreachable.`;

/** "2s", "500ms", "1.5m", "1h", or a bare number of seconds. Positive only. */
export function parseDurationMs(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  const ms = Math.round(n * factor);
  return ms > 0 ? ms : undefined;
}

type FlagKind = 'value' | 'bool';
interface FlagSpec {
  key: string;
  kind: FlagKind;
}

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  '-r': { key: 'runtime-endpoint', kind: 'value' },
  '--runtime-endpoint': { key: 'runtime-endpoint', kind: 'value' },
  '-i': { key: 'image-endpoint', kind: 'value' },
  '--image-endpoint': { key: 'image-endpoint', kind: 'value' },
  '-t': { key: 'timeout', kind: 'value' },
  '--timeout': { key: 'timeout', kind: 'value' },
  '--pull-timeout': { key: 'pull-timeout', kind: 'value' },
  '--termination-log': { key: 'termination-log', kind: 'value' },
  '--cri-api': { key: 'cri-api', kind: 'value' },
  '-h': { key: 'help', kind: 'bool' },
  '--help': { key: 'help', kind: 'bool' },
};

const COMMAND_FLAGS: Record<string, Record<string, FlagSpec>> = {
  rmi: {},
  pull: {},
  inspecti: {},
  version: {},
  help: {},
  images: {
    '-q': { key: 'quiet', kind: 'bool' },
    '--quiet': { key: 'quiet', kind: 'bool' },
    '-o': { key: 'output', kind: 'value' },
    '--output': { key: 'output', kind: 'value' },
  },
};

export function parseCriClientArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CriClientArgs {
  const values = new Map<string, string>();
  const bools = new Set<string>();
  const positionals: string[] = [];
  let command: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const eq = arg.indexOf('=');
      const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
      const spec = GLOBAL_FLAGS[name] ?? (command !== undefined ? COMMAND_FLAGS[command]?.[name] : undefined);
      if (!spec) {
        const where = command === undefined ? '' : ` for "${command}"`;
        return { ok: false, error: `unknown flag ${JSON.stringify(name)}${where}; see --help` };
      }
      if (spec.kind === 'bool') {
        if (eq > 0 && arg.startsWith('--')) return { ok: false, error: `flag ${name} takes no value` };
        bools.add(spec.key);
        continue;
      }
      let value: string | undefined;
      if (arg.startsWith('--') && eq > 0) {
        value = arg.slice(eq + 1);
      } else {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined) return { ok: false, error: `flag ${name} needs a value; see --help` };
      values.set(spec.key, value);
      continue;
    }
    if (command === undefined) {
      if (!(arg in COMMAND_FLAGS)) {
        return { ok: false, error: `unknown command ${JSON.stringify(arg)}; the commands are rmi, pull, images, inspecti, version` };
      }
      command = arg;
    } else {
      positionals.push(arg);
    }
  }

  const timeout = values.get('timeout');
  const timeoutMs = timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDurationMs(timeout);
  if (timeoutMs === undefined) return { ok: false, error: `--timeout ${JSON.stringify(timeout)} is not a positive duration; write it as 2s, 500ms or 1m` };
  const pullTimeout = values.get('pull-timeout');
  const pullTimeoutMs = pullTimeout === undefined ? DEFAULT_PULL_TIMEOUT_MS : parseDurationMs(pullTimeout);
  if (pullTimeoutMs === undefined) {
    return { ok: false, error: `--pull-timeout ${JSON.stringify(pullTimeout)} is not a positive duration; write it as 30s or 10m` };
  }
  const api = values.get('cri-api') ?? 'auto';
  if (api !== 'auto' && api !== 'v1' && api !== 'v1alpha2') {
    return { ok: false, error: `--cri-api ${JSON.stringify(api)} is not supported; use v1, v1alpha2 or auto` };
  }

  const options: GlobalOptions = { timeoutMs, pullTimeoutMs, apiVersion: api };
  const runtimeEndpoint = values.get('runtime-endpoint') ?? nonEmpty(env.CONTAINER_RUNTIME_ENDPOINT);
  if (runtimeEndpoint !== undefined) options.runtimeEndpoint = runtimeEndpoint;
  const imageEndpoint = values.get('image-endpoint') ?? nonEmpty(env.IMAGE_SERVICE_ENDPOINT);
  if (imageEndpoint !== undefined) options.imageEndpoint = imageEndpoint;
  const terminationLog = values.get('termination-log');
  if (terminationLog !== undefined) options.terminationLog = terminationLog;

  if (bools.has('help') || command === undefined || command === 'help') {
    return { ok: true, options, command: { name: 'help' } };
  }

  switch (command) {
    case 'rmi':
    case 'pull':
    case 'inspecti':
      if (positionals.length === 0) return { ok: false, error: `${command} needs at least one image, e.g. ${CRI_CLIENT_NAME} ${command} nginx:1.27` };
      return { ok: true, options, command: { name: command, images: positionals } };
    case 'images': {
      const output = values.get('output') ?? 'table';
      if (output !== 'table' && output !== 'json') return { ok: false, error: `images -o ${JSON.stringify(output)} is not supported; use table or json` };
      if (positionals.length > 1) return { ok: false, error: 'images takes at most one reference to filter by' };
      const cmd: CriClientCommand = { name: 'images', quiet: bools.has('quiet'), output };
      if (positionals[0] !== undefined) cmd.filter = positionals[0];
      return { ok: true, options, command: cmd };
    }
    case 'version':
      if (positionals.length > 0) return { ok: false, error: 'version takes no arguments' };
      return { ok: true, options, command: { name: 'version' } };
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(command)}` };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
