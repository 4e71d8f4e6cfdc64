// What an API call's failure means, and how to log it. Pure (no I/O).
// - describeApiError: the API's own Status fields (code, reason, message) instead of client-node's
//   "HTTP-Code: 409 Message: Unknown API Status Code! Body: \"{...}\"" text with JSON inside JSON;
// - classifyApiError: transient (429 with its Retry-After, 5xx, connection refused/reset, timeouts:
//   retry with backoff), permission (401/403: a missing permission or a bad credential, fatal where
//   it means the controller cannot work at all), or other (a 4xx the caller decides on).

/** The fields of a failed API call worth logging, as the API server reported them. */
export interface ApiErrorFields {
  /** HTTP status, when the server answered. */
  code?: number;
  /** Status.reason, e.g. "Forbidden", "Conflict", "TooManyRequests". */
  reason?: string;
  /** Status.message, or the error's own message for a network failure. */
  message: string;
  /** errno-style code of a network failure, e.g. "ECONNREFUSED". */
  errno?: string;
}

export type ApiErrorClass =
  | { kind: 'transient'; retryAfterMs?: number }
  | { kind: 'permission'; code: 401 | 403 }
  | { kind: 'other' };

/** Network failures worth a retry: the request never got an answer. */
const TRANSIENT_ERRNOS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
]);

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  errno?: unknown;
  type?: unknown;
  name?: unknown;
  message?: unknown;
  body?: unknown;
  headers?: unknown;
  cause?: unknown;
}

function asObject(x: unknown): ErrorLike {
  return typeof x === 'object' && x !== null ? (x as ErrorLike) : {};
}

/** The HTTP status of an ApiException (`code`), a Watch error (`statusCode`) or a Status object. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = asObject(err);
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** The errno-style code of a network failure (node-fetch FetchError, a socket error, or its cause). */
function errnoOf(err: unknown): string | undefined {
  for (let e = asObject(err), depth = 0; depth < 4; e = asObject(e.cause), depth++) {
    if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code;
    if (typeof e.errno === 'string' && /^[A-Z_]+$/.test(e.errno)) return e.errno;
    if (e.cause === undefined) break;
  }
  return undefined;
}

function parseStatusBody(body: unknown): { reason?: string; message?: string } {
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.trim() === '' ? {} : { message: body.trim() };
    }
  }
  const s = asObject(b) as { reason?: unknown; message?: unknown };
  return {
    reason: typeof s.reason === 'string' && s.reason !== '' ? s.reason : undefined,
    message: typeof s.message === 'string' && s.message !== '' ? s.message : undefined,
  };
}

export function describeApiError(err: unknown): ApiErrorFields {
  const e = asObject(err);
  const code = httpStatusOf(err);
  const errno = errnoOf(err);
  const status = parseStatusBody(e.body);
  const own = typeof e.message === 'string' ? e.message : String(err);
  // client-node's ApiException message repeats the body; keep only its first line when there is a Status.
  const message = status.message ?? (code !== undefined ? (own.split('\n').find((l) => l.startsWith('Message: '))?.slice(9) ?? own) : own);
  return {
    ...(code !== undefined ? { code } : {}),
    ...(status.reason ? { reason: status.reason } : {}),
    message,
    ...(errno ? { errno } : {}),
  };
}

/** One line for logs and messages: "403 Forbidden: jobs.batch is forbidden: ..." or "ECONNREFUSED: ...". */
export function apiErrorText(err: unknown): string {
  const f = describeApiError(err);
  const head = [f.code, f.reason].filter((x) => x !== undefined).join(' ') || f.errno;
  return head ? `${head}: ${f.message}` : f.message;
}

/** Retry-After in ms (delta-seconds or an HTTP date), from a headers object or a Headers-like map. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function headerOf(headers: unknown, name: string): string | undefined {
  const h = asObject(headers) as Record<string, unknown>;
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

/** Whether a status code answer is worth a retry (and after how long the server asked for). */
export function classifyStatus(code: number, retryAfter?: string): ApiErrorClass {
  if (code === 429) return { kind: 'transient', retryAfterMs: parseRetryAfter(retryAfter) };
  if (code >= 500 && code !== 501) return { kind: 'transient', retryAfterMs: parseRetryAfter(retryAfter) };
  if (code === 401 || code === 403) return { kind: 'permission', code };
  return { kind: 'other' };
}

export function classifyApiError(err: unknown): ApiErrorClass {
  const code = httpStatusOf(err);
  if (code !== undefined) return classifyStatus(code, headerOf(asObject(err).headers, 'retry-after'));
  const e = asObject(err);
  const errno = errnoOf(err);
  if (errno && TRANSIENT_ERRNOS.has(errno)) return { kind: 'transient' };
  // node-fetch: FetchError type "request-timeout"/"system"/"body-timeout"; AbortSignal.timeout: TimeoutError
  if (e.type === 'request-timeout' || e.type === 'body-timeout' || e.name === 'TimeoutError') return { kind: 'transient' };
  if (typeof e.message === 'string' && /socket hang up|network timeout|premature close/i.test(e.message)) return { kind: 'transient' };
  return { kind: 'other' };
}

export function isTransient(err: unknown): boolean {
  return classifyApiError(err).kind === 'transient';
}

/**
 * Log fields of a failure: `error` (one line), and the API's own `code`, `reason`, `apiMessage` when
 * the server answered; the stack only for errors that are neither API answers nor network failures.
 */
export function apiErrorLogFields(err: unknown): Record<string, unknown> {
  const f = describeApiError(err);
  const apiLike = f.code !== undefined || f.errno !== undefined;
  return {
    error: apiErrorText(err),
    ...(f.code !== undefined ? { code: f.code } : {}),
    ...(f.reason ? { reason: f.reason } : {}),
    ...(f.code !== undefined ? { apiMessage: f.message } : {}),
    ...(f.errno ? { errno: f.errno } : {}),
    ...(!apiLike && err instanceof Error && err.stack ? { stack: err.stack } : {}),
  };
}
