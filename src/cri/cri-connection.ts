// One gRPC channel to a CRI runtime socket and unary calls over it, encoded with the messages of
// cri-api-proto.ts. The CRI API version is negotiated like crictl does: runtime.v1 first; if the
// runtime answers UNIMPLEMENTED (containerd < 1.6 and other old runtimes only serve v1alpha2), the
// same call is retried on runtime.v1alpha2, whose messages carry the same field numbers.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { criApiRoot } from './cri-api-proto.js';
import type { CriEndpoint } from './cri-endpoint.js';

export type CriApiVersion = 'v1' | 'v1alpha2';
export type CriService = 'ImageService' | 'RuntimeService';

/** A failed CRI call: the gRPC status and the runtime's own message. */
export class CriCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    /** The runtime's message (gRPC status details), verbatim. */
    readonly details: string,
  ) {
    super(`${method}: ${grpc.status[code] ?? code}: ${details}`);
    this.name = 'CriCallError';
  }

  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }
}

/** The runtime could not be reached at all (no socket, nobody listening, connect timeout). */
export class CriUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    reason: string,
  ) {
    super(`cannot reach the CRI runtime at ${endpoint}: ${reason}`);
    this.name = 'CriUnreachableError';
  }
}

export interface CriConnectionOptions {
  /** "auto" (default): v1, falling back to v1alpha2 on UNIMPLEMENTED. */
  apiVersion?: CriApiVersion | 'auto';
  /** Largest response accepted, bytes (ListImages on a big node). Default 16 MiB, as crictl. */
  maxReceiveMessageBytes?: number;
  /**
   * Where `<Method>Request` / `<Method>Response` are looked up (package runtime.v1). Default: the
   * client's own CRI subset (cri-api-proto.ts); tests pass a root with more RuntimeService messages.
   */
  protoRoot?: protobuf.Root;
}

const DECODE_OPTIONS: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

export class CriConnection {
  private readonly client: grpc.Client;
  private readonly fixedVersion: CriApiVersion | undefined;
  private negotiated: CriApiVersion | undefined;
  private readonly root: protobuf.Root;

  constructor(
    readonly endpoint: CriEndpoint,
    options: CriConnectionOptions = {},
  ) {
    const maxReceive = options.maxReceiveMessageBytes ?? 16 * 1024 * 1024;
    this.client = new grpc.Client(endpoint.target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxReceive,
      // unix sockets: no DNS, no proxy; keep reconnect attempts short so failures surface quickly
      'grpc.enable_http_proxy': 0,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this.root = options.protoRoot ?? criApiRoot();
    this.fixedVersion = options.apiVersion === undefined || options.apiVersion === 'auto' ? undefined : options.apiVersion;
  }

  /** The API version in use: the fixed one, or the negotiated one once a call succeeded. */
  get apiVersion(): CriApiVersion | undefined {
    return this.fixedVersion ?? this.negotiated;
  }

  /** Resolves when the channel is connected; rejects with CriUnreachableError after timeoutMs. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err) {
          reject(new CriUnreachableError(this.endpoint.raw, `no connection within ${formatMs(timeoutMs)} (${err.message}); is the runtime running and serving CRI on this socket?`));
        } else {
          resolve();
        }
      });
    });
  }

  /**
   * One unary call. `method` is the CRI method name ("ImageStatus"); request and response types are
   * `<method>Request` / `<method>Response`. Rejects with CriCallError (runtime answered with an error)
   * or CriUnreachableError (UNAVAILABLE: nothing answered).
   */
  async call<Res>(service: CriService, method: string, request: object, timeoutMs: number): Promise<Res> {
    const version = this.apiVersion ?? 'v1';
    try {
      const res = await this.callVersion<Res>(version, service, method, request, timeoutMs);
      if (this.fixedVersion === undefined) this.negotiated = version;
      return res;
    } catch (err) {
      const unimplemented = err instanceof CriCallError && err.code === grpc.status.UNIMPLEMENTED;
      if (!unimplemented || this.fixedVersion !== undefined || this.negotiated !== undefined) throw err;
      // runtime.v1 unknown to this runtime: try v1alpha2 once, and keep it if it works.
      try {
        const res = await this.callVersion<Res>('v1alpha2', service, method, request, timeoutMs);
        this.negotiated = 'v1alpha2';
        return res;
      } catch (err2) {
        if (err2 instanceof CriCallError && err2.code === grpc.status.UNIMPLEMENTED) {
          throw new CriCallError(
            `${service}/${method}`,
            grpc.status.UNIMPLEMENTED,
            `the runtime implements neither runtime.v1 nor runtime.v1alpha2 ${service}/${method} (v1: ${(err as CriCallError).details}; v1alpha2: ${err2.details})`,
          );
        }
        throw err2;
      }
    }
  }

  close(): void {
    this.client.close();
  }

  private callVersion<Res>(version: CriApiVersion, service: CriService, method: string, request: object, timeoutMs: number): Promise<Res> {
    const requestType = this.root.lookupType(`runtime.v1.${method}Request`);
    const responseType = this.root.lookupType(`runtime.v1.${method}Response`);
    const path = `/runtime.${version}.${service}/${method}`;
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest<object, Res>(
        path,
        (value) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish()),
        (buffer) => responseType.toObject(responseType.decode(buffer), DECODE_OPTIONS) as Res,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (err) {
            reject(this.toError(`${service}/${method}`, err, timeoutMs));
          } else if (value === undefined) {
            reject(new CriCallError(`${service}/${method}`, grpc.status.INTERNAL, 'empty response'));
          } else {
            resolve(value);
          }
        },
      );
    });
  }

  private toError(method: string, err: grpc.ServiceError, timeoutMs: number): Error {
    if (err.code === grpc.status.UNAVAILABLE) {
      return new CriUnreachableError(this.endpoint.raw, err.details || err.message);
    }
    if (err.code === grpc.status.DEADLINE_EXCEEDED) {
      return new CriCallError(method, err.code, `no answer within ${formatMs(timeoutMs)} (raise --timeout if the runtime is slow)`);
    }
    return new CriCallError(method, err.code, err.details || err.message);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
