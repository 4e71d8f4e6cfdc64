// kubefledged-cri-client: argv -> CRI calls -> stdout/stderr, a one-line termination message and an
// exit code (exit-codes.ts). The entrypoint (src/cmd/cri-client.ts) only calls runCriClient().
import { CriCallError, CriConnection, CriUnreachableError } from './cri-connection.js';
import { checkSocket, DEFAULT_RUNTIME_ENDPOINTS, parseCriEndpoint, type CriEndpoint } from './cri-endpoint.js';
import { parseCriClientArgs, USAGE, type CriClientCommand, type GlobalOptions } from './cri-client-args.js';
import { CriClientExit } from './exit-codes.js';
import { removeImages, type ImageRemovalResult } from './image-removal.js';
import { CriImageService } from './image-service.js';
import { formatImageTable } from './image-listing.js';
import { CriRuntimeService } from './runtime-service.js';
import { resolveTerminationLog, writeTerminationLog } from './termination-log.js';

export interface CriClientIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** What a command produced: exit code and the one line for the termination log. */
interface Outcome {
  code: number;
  line: string;
}

/** Runs the CLI; resolves to the process exit code. Never throws. */
export async function runCriClient(argv: readonly string[], io: CriClientIo): Promise<number> {
  const parsed = parseCriClientArgs(argv, io.env);
  const terminationLog = resolveTerminationLog(parsed.ok ? parsed.options.terminationLog : flagValue(argv, '--termination-log'), io.env);
  let outcome: Outcome;
  if (!parsed.ok) {
    io.stderr(`${parsed.error}`);
    outcome = { code: CriClientExit.USAGE, line: `usage error: ${parsed.error}` };
  } else if (parsed.command.name === 'help') {
    io.stdout(USAGE);
    return CriClientExit.OK;
  } else {
    outcome = await runCommand(parsed.options, parsed.command, io);
  }
  const written = await writeTerminationLog(terminationLog, outcome.line);
  if (!written.written && terminationLog.explicit) io.stderr(`warning: termination log not written: ${written.reason}`);
  return outcome.code;
}

async function runCommand(options: GlobalOptions, command: Exclude<CriClientCommand, { name: 'help' }>, io: CriClientIo): Promise<Outcome> {
  const endpoints = await resolveEndpoints(options);
  if (!endpoints.ok) {
    io.stderr(endpoints.error);
    return { code: endpoints.code, line: endpoints.error };
  }
  const { runtime, image } = endpoints;
  const connOptions = { apiVersion: options.apiVersion };
  const runtimeConn = new CriConnection(runtime, connOptions);
  const imageConn = image.socketPath === runtime.socketPath ? runtimeConn : new CriConnection(image, connOptions);
  const timeouts = { callMs: options.timeoutMs, pullMs: options.pullTimeoutMs };
  const images = new CriImageService(imageConn, timeouts);
  const runtimeService = new CriRuntimeService(runtimeConn, options.timeoutMs);
  try {
    const usesRuntime = command.name === 'version' || command.name === 'rmi';
    await imageConn.waitForReady(options.timeoutMs);
    if (usesRuntime && runtimeConn !== imageConn) await runtimeConn.waitForReady(options.timeoutMs);
    switch (command.name) {
      case 'rmi':
        return await rmi(command.images, images, runtimeService, io);
      case 'pull':
        return await pull(command.images, images, io);
      case 'images':
        return await listImages(command, images, io);
      case 'inspecti':
        return await inspect(command.images, images, io);
      case 'version':
        return await version(runtimeService, io);
      default:
        return assertNever(command);
    }
  } catch (err) {
    if (err instanceof CriUnreachableError) {
      io.stderr(err.message);
      return { code: CriClientExit.UNREACHABLE, line: err.message };
    }
    const message = err instanceof CriCallError ? `${err.method} failed: ${err.codeName}: ${err.details}` : (err as Error).message;
    io.stderr(message);
    return { code: CriClientExit.FAILED, line: message };
  } finally {
    runtimeConn.close();
    if (imageConn !== runtimeConn) imageConn.close();
  }
}

type Endpoints = { ok: true; runtime: CriEndpoint; image: CriEndpoint } | { ok: false; code: number; error: string };

async function resolveEndpoints(options: GlobalOptions): Promise<Endpoints> {
  let runtime: CriEndpoint;
  if (options.runtimeEndpoint !== undefined) {
    const parsed = parseCriEndpoint(options.runtimeEndpoint);
    if (!parsed.ok) return { ok: false, code: CriClientExit.USAGE, error: `runtime endpoint ${JSON.stringify(options.runtimeEndpoint)}: ${parsed.error}` };
    runtime = parsed.endpoint;
  } else {
    let found: CriEndpoint | undefined;
    for (const candidate of DEFAULT_RUNTIME_ENDPOINTS) {
      const parsed = parseCriEndpoint(candidate);
      if (parsed.ok && (await checkSocket(parsed.endpoint)).ok) {
        found = parsed.endpoint;
        break;
      }
    }
    if (!found) {
      return {
        ok: false,
        code: CriClientExit.UNREACHABLE,
        error: `no runtime endpoint given and none of the default CRI sockets exists (${DEFAULT_RUNTIME_ENDPOINTS.join(', ')}); set --runtime-endpoint or CONTAINER_RUNTIME_ENDPOINT`,
      };
    }
    runtime = found;
  }
  let image = runtime;
  if (options.imageEndpoint !== undefined) {
    const parsed = parseCriEndpoint(options.imageEndpoint);
    if (!parsed.ok) return { ok: false, code: CriClientExit.USAGE, error: `image endpoint ${JSON.stringify(options.imageEndpoint)}: ${parsed.error}` };
    image = parsed.endpoint;
  }
  for (const endpoint of image === runtime ? [runtime] : [image, runtime]) {
    const check = await checkSocket(endpoint);
    if (!check.ok) return { ok: false, code: CriClientExit.UNREACHABLE, error: `cannot reach the CRI runtime at ${endpoint.raw}: ${check.error}` };
  }
  return { ok: true, runtime, image };
}

async function rmi(list: readonly string[], images: CriImageService, runtime: CriRuntimeService, io: CriClientIo): Promise<Outcome> {
  const results = await removeImages(list, { images, runtime, warn: (m) => io.stderr(`warning: ${m}`) });
  for (const r of results) (r.ok ? io.stdout : io.stderr)(r.message);
  return { code: results.every((r) => r.ok) ? CriClientExit.OK : CriClientExit.FAILED, line: summarizeRemovals(results) };
}

/** The termination line of rmi: failures first, so that they survive the 4 KiB cut. */
export function summarizeRemovals(results: readonly ImageRemovalResult[]): string {
  const ordered = [...results.filter((r) => !r.ok), ...results.filter((r) => r.ok)];
  return ordered.map((r) => r.message).join('; ');
}

async function pull(list: readonly string[], images: CriImageService, io: CriClientIo): Promise<Outcome> {
  const lines: string[] = [];
  let failed = false;
  for (const image of list) {
    try {
      const ref = await images.pullImage(image);
      io.stdout(`Image is up to date for ${ref}`);
      lines.push(`${image}: pulled as ${ref}`);
    } catch (err) {
      if (err instanceof CriUnreachableError) throw err;
      const message = `${image}: ${err instanceof CriCallError ? `${err.method} failed: ${err.codeName}: ${err.details}` : (err as Error).message}`;
      io.stderr(message);
      lines.unshift(message);
      failed = true;
    }
  }
  return { code: failed ? CriClientExit.FAILED : CriClientExit.OK, line: lines.join('; ') };
}

async function listImages(command: Extract<CriClientCommand, { name: 'images' }>, images: CriImageService, io: CriClientIo): Promise<Outcome> {
  const list = await images.listImages(command.filter);
  if (command.output === 'json') io.stdout(JSON.stringify({ images: list }, null, 2));
  else if (command.quiet) for (const id of new Set(list.map((i) => i.id))) io.stdout(id);
  else io.stdout(formatImageTable(list));
  return { code: CriClientExit.OK, line: `${list.length} image(s)` };
}

async function inspect(list: readonly string[], images: CriImageService, io: CriClientIo): Promise<Outcome> {
  const found: object[] = [];
  const missing: string[] = [];
  for (const image of list) {
    const res = await images.imageStatusVerbose(image, true);
    if (res.image) found.push({ status: res.image, info: res.info });
    else missing.push(image);
  }
  if (found.length > 0) io.stdout(JSON.stringify(found.length === 1 ? found[0] : found, null, 2));
  for (const image of missing) io.stderr(`no such image ${image} present`);
  if (missing.length > 0) return { code: CriClientExit.FAILED, line: `no such image: ${missing.join(', ')}` };
  return { code: CriClientExit.OK, line: `${found.length} image(s) inspected` };
}

async function version(runtime: CriRuntimeService, io: CriClientIo): Promise<Outcome> {
  const v = await runtime.version();
  io.stdout(`Version:  ${v.version}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}`);
  return { code: CriClientExit.OK, line: `${v.runtimeName} ${v.runtimeVersion} (CRI ${v.runtimeApiVersion})` };
}

function assertNever(command: never): never {
  throw new Error(`unhandled command ${JSON.stringify(command)}`);
}

/** Best effort for a command line that failed to parse: still honour an explicit --termination-log. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg === flag) return argv[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}
