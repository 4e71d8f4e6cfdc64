// The request layer every API client of the controller shares: a KubeConfig whose typed clients
// (makeApiClient: ImageCacheApi, informers' lists, the Lease client) and watches (applyToFetchOptions:
// informers, the SDK-facing ImageCache watch) go through
// - one client-side rate limiter (client-go's --kube-api-qps / --kube-api-burst token bucket), in which
//   the deletes of Jobs (the clean-up of finished operations) go at low priority: they wait while any
//   other request waits for a token (requestPriority, token-bucket.ts). With clientLimit 'auto' (the
//   default, --kube-api-qps=auto) the limit of the other requests is lifted while the API server's
//   answers carry API Priority and Fairness headers (X-Kubernetes-PF-FlowSchema-UID: APF is on, GA since
//   Kubernetes 1.29, on by default since 1.20): the server then queues and sheds load fairly itself, and
//   a client-side limit only slows a bulk create (1,000 Jobs at 20/s: 50 s) without protecting anything
//   (SIG API Machinery's advice; controller-runtime and Flux do the same). Job deletes stay paced at
//   qps/burst either way;
// - retries with exponential backoff and jitter of transient failures: 429 (honouring Retry-After),
//   5xx, connection refused or reset, timeouts; anything else is returned to the caller at once;
// - an optional gate: once it is closed (leadership lost, shutting down) every request fails at once
//   with NotLeadingError, so no reconcile of an old leadership term writes anything.
// - optionally (keepAlive, the Lease client's) one keep-alive connection pool per server and credentials:
//   client-node makes a new https.Agent, so a new TLS handshake, for every request, which a starved
//   process pays for in the middle of its renew deadline.
// Every controller write is idempotent (a create answers 409 "exists", a delete 404), so retrying a
// request whose answer was lost is safe.
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type ApiType,
  type Configuration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import * as http from 'node:http';
import * as https from 'node:https';
import { apiErrorText, classifyApiError, classifyStatus, type ApiErrorClass } from './api-errors.js';
import { TokenBucket, type ClientLimit, type RequestPriority } from './token-bucket.js';

export type { ClientLimit } from './token-bucket.js';


export interface RetryPolicy {
  /** First backoff; doubles per attempt. */
  baseDelayMs: number;
  /** Cap of one backoff (and of a server's Retry-After). */
  maxDelayMs: number;
  /** Give up (return the last answer or error) once retrying would pass this much time. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 250, maxDelayMs: 8_000, maxElapsedMs: 30_000 };

export interface RequestLayerLog {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info?(message: string, meta?: Record<string, unknown>): unknown;
}


/** The header API Priority and Fairness sets on every answer it classified. */
export const APF_HEADER = 'x-kubernetes-pf-flowschema-uid';

export interface RequestLayerOptions {
  qps: number;
  burst: number;
  /** Default 'limit'. */
  clientLimit?: ClientLimit;
  log?: RequestLayerLog;
  retry?: Partial<RetryPolicy>;
  /** Called on every retry (for a metric). */
  onRetry?: (reason: string) => void;
  /** Reuse keep-alive connections across requests of the typed clients (one pool per server and credentials). */
  keepAlive?: boolean;
  /** Test hooks. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const JOB_PATH = /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs\/[^/]+$/;

/**
 * 'low' for the clean-up of the controller's Jobs (DELETE of one Job): nothing waits for it (the status
 * is written first), so it yields the budget to creates, status writes, reads and watches.
 */
export function requestPriority(what: { method: string; url: string }): RequestPriority {
  return what.method.toUpperCase() === 'DELETE' && JOB_PATH.test(pathOf(what.url)) ? 'low' : 'normal';
}

/** A request refused because the process no longer leads (or is shutting down). */
export class NotLeadingError extends Error {
  constructor(reason: string) {
    super(`request not sent: ${reason}`);
    this.name = 'NotLeadingError';
  }
}

/** A closed gate returns why this request must not be sent; an open one undefined. */
export type RequestGate = (request: { method: string; url: string }) => string | undefined;

/** Throws NotLeadingError when the gate is closed for this request. */
function checkGate(gate: RequestGate | undefined, request: { method: string; url: string }): void {
  const closed = gate?.(request);
  if (closed !== undefined) throw new NotLeadingError(closed);
}

/** The rate limiter and retry loop; shared by every KubeConfig derived from one another. */
export class RequestLayer {
  readonly limiter: TokenBucket;
  readonly policy: RetryPolicy;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: RequestLayerOptions) {
    this.now = opts.now ?? (() => Date.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.limiter = new TokenBucket(opts.qps, opts.burst, { now: this.now, sleep: this.sleep });
    if (opts.clientLimit === 'unlimited') this.limiter.setUnlimited(true);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  }

  /** 'auto': an answer says whether the server runs API Priority and Fairness; the limit follows. */
  observeFlowControl(apf: boolean): void {
    if (this.opts.clientLimit !== 'auto' || apf === this.limiter.isUnlimited()) return;
    this.limiter.setUnlimited(apf);
    this.opts.log?.info?.(apf
      ? 'the API server runs API Priority and Fairness: client-side rate limit lifted (--kube-api-qps=auto); Job deletes stay paced'
      : `the API server's answers carry no API Priority and Fairness headers: client-side rate limit ${this.opts.qps} qps, burst ${this.opts.burst} (--kube-api-qps=auto)`);
  }

  private readonly agents = new Map<string, http.Agent>();

  /** The keep-alive agent for the options of `agent` (a plain http(s).Agent); other agents (proxies) as they are. */
  pooled(agent: http.Agent): http.Agent {
    if (!this.opts.keepAlive || (agent.constructor !== https.Agent && agent.constructor !== http.Agent)) return agent;
    const o = (agent as http.Agent & { options?: https.AgentOptions }).options ?? {};
    const str = (v: unknown) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v));
    const key = [agent.constructor === https.Agent ? 'https' : 'http', o.ca, o.cert, o.key, o.pfx, o.rejectUnauthorized, o.servername].map(str).join('|');
    let pooled = this.agents.get(key);
    if (!pooled) {
      if (this.agents.size >= 8) this.agents.clear(); // credentials rotated many times: start over
      const options = { ...o, keepAlive: true };
      pooled = agent.constructor === https.Agent ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(key, pooled);
    }
    agent.destroy();
    return pooled;
  }

  /** Backoff before retry n (0-based): base * 2^n, capped, with +-20% jitter; a Retry-After wins. */
  delayFor(n: number, cls: ApiErrorClass): number {
    if (cls.kind === 'transient' && cls.retryAfterMs !== undefined) return Math.min(Math.max(cls.retryAfterMs, 0), this.policy.maxDelayMs);
    const exp = Math.min(this.policy.baseDelayMs * 2 ** n, this.policy.maxDelayMs);
    return Math.round(exp * (0.8 + 0.4 * this.random()));
  }

  /**
   * Sends through the limiter and retries transient failures. `send` makes one attempt; `statusOf`
   * reads the status code and Retry-After of an answer; `discard` drops an answer that is retried
   * and returns its body text.
   */
  async execute<R>(
    what: { method: string; url: string },
    send: () => Promise<R>,
    statusOf: (r: R) => { code: number; retryAfter?: string; apf?: boolean },
    discard: (r: R) => Promise<string | undefined>,
    gate?: RequestGate,
    signal?: AbortSignal,
  ): Promise<R> {
    const start = this.now();
    for (let n = 0; ; n++) {
      checkGate(gate, what);
      await this.limiter.acquire(requestPriority(what));
      // the wait for a token can outlast the term (SIGTERM, a lost Lease): ask the gate again
      checkGate(gate, what);
      let answer: R | undefined;
      let error: unknown;
      let cls: ApiErrorClass;
      try {
        answer = await send();
        const s = statusOf(answer);
        // a 429 or 5xx without the header may come from a proxy or load balancer in front of the API
        // server: only a success says the server itself does not run APF
        if (s.apf === true || (s.apf === false && s.code >= 200 && s.code < 300)) this.observeFlowControl(s.apf);
        cls = s.code >= 200 && s.code < 300 ? { kind: 'other' } : classifyStatus(s.code, s.retryAfter);
      } catch (err) {
        error = err;
        cls = classifyApiError(err);
      }
      const finish = (): R => {
        if (error !== undefined) throw error;
        return answer as R;
      };
      if (cls.kind !== 'transient' || signal?.aborted) return finish();
      const delay = this.delayFor(n, cls);
      if (this.now() - start + delay > this.policy.maxElapsedMs) return finish();
      // the answer is dropped: read its body for the log (the API's own reason and message)
      const body = answer !== undefined ? await discard(answer).catch(() => undefined) : undefined;
      const reason = apiErrorText(error ?? { code: statusOf(answer as R).code, body });
      (n === 0 ? this.opts.log?.warn : this.opts.log?.debug)?.call(this.opts.log, `API request failed, retrying in ${delay} ms`, {
        method: what.method, path: pathOf(what.url), attempt: n + 1, error: reason,
      });
      this.opts.onRetry?.(reason);
      await this.sleep(delay);
    }
  }
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname;
  } catch {
    return url;
  }
}

/** The typed clients' HTTP library: client-node's fetch library behind the layer. */
function layeredHttpLibrary(layer: RequestLayer, gate: RequestGate | undefined) {
  const inner = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    send: (req: RequestContext): Promise<ResponseContext> =>
      layer.execute(
        { method: String(req.getHttpMethod()), url: req.getUrl() },
        () => inner.send(req).toPromise(),
        (r) => ({ code: r.httpStatusCode, retryAfter: r.headers['retry-after'], apf: APF_HEADER in r.headers }),
        (r) => r.body.text(),
        gate,
        req.getSignal(),
      ),
  });
}

/**
 * A KubeConfig whose clients and watches share one RequestLayer. withGate() derives one that shares
 * the layer (and so the rate limit) but refuses requests once its gate closes.
 */
export class LayeredKubeConfig extends KubeConfig {
  private layer!: RequestLayer;
  private gate: RequestGate | undefined;

  static from(kc: KubeConfig, layer: RequestLayer, gate?: RequestGate): LayeredKubeConfig {
    const out = new LayeredKubeConfig();
    out.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    out.layer = layer;
    out.gate = gate;
    return out;
  }

  requestLayer(): RequestLayer {
    return this.layer;
  }

  /** Same server, credentials and rate limit; requests fail with NotLeadingError once gate() closes. */
  withGate(gate: RequestGate): LayeredKubeConfig {
    return LayeredKubeConfig.from(this, this.layer, gate);
  }

  override makeApiClient<T extends ApiType>(apiClientType: new (config: Configuration) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this },
      httpApi: layeredHttpLibrary(this.layer, this.gate),
    });
    return new apiClientType(config);
  }

  /** The typed clients' TLS and credentials, on a pooled keep-alive agent when the layer says so. */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent) context.setAgent(this.layer.pooled(agent));
  }

  /** Used by client-node's Watch for every (re)connect: rate-limited and gated like any request. */
  override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]): ReturnType<KubeConfig['applyToFetchOptions']> {
    checkGate(this.gate, { method: 'GET', url: '' });
    await this.layer.limiter.acquire();
    checkGate(this.gate, { method: 'GET', url: '' });
    return super.applyToFetchOptions(opts);
  }
}

/** The controller's KubeConfig: `kc`'s server and credentials behind a new layer. */
export function withRequestLayer(kc: KubeConfig, opts: RequestLayerOptions): LayeredKubeConfig {
  return LayeredKubeConfig.from(kc, new RequestLayer(opts));
}
