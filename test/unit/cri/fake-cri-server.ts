// Test helper: a CRI server on a unix socket in a temp dir, serving chosen methods of
// runtime.<version>.ImageService / RuntimeService with the client's own message types.
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { criApiRoot } from '../../../src/cri/cri-api-proto.js';

export type Handler = (request: Record<string, unknown>) => object | Promise<object>;

export interface FakeMethod {
  version: 'v1' | 'v1alpha2';
  service: 'ImageService' | 'RuntimeService';
  method: string;
  handler: Handler;
}

/** A gRPC error with a status code, as a handler throws it. */
export class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    details: string,
  ) {
    super(details);
  }
}

export class FakeCriServer {
  readonly calls: string[] = [];
  private server = new grpc.Server();
  private dir = '';
  socketPath = '';

  constructor(private readonly methods: FakeMethod[]) {}

  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'kf-fake-cri-'));
    this.socketPath = path.join(this.dir, 'cri.sock');
    const root = criApiRoot();
    const byService = new Map<string, Record<string, grpc.MethodDefinition<object, object>>>();
    const impls = new Map<string, grpc.UntypedServiceImplementation>();
    for (const m of this.methods) {
      const key = `runtime.${m.version}.${m.service}`;
      const req = root.lookupType(`runtime.v1.${m.method}Request`);
      const res = root.lookupType(`runtime.v1.${m.method}Response`);
      const def = byService.get(key) ?? {};
      def[m.method] = {
        path: `/${key}/${m.method}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: object) => Buffer.from(req.encode(req.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), { longs: Number, enums: String, defaults: true }),
        responseSerialize: (v: object) => Buffer.from(res.encode(res.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => res.toObject(res.decode(b)),
        originalName: m.method,
      };
      byService.set(key, def);
      const impl = impls.get(key) ?? {};
      impl[m.method] = ((call: grpc.ServerUnaryCall<Record<string, unknown>, object>, callback: grpc.sendUnaryData<object>) => {
        this.calls.push(`${m.version}/${m.service}/${m.method}`);
        Promise.resolve()
          .then(() => m.handler(call.request))
          .then(
            (value) => callback(null, value),
            (err: unknown) => {
              if (err instanceof StatusError) callback({ code: err.code, details: err.message });
              else callback({ code: grpc.status.INTERNAL, details: String(err) });
            },
          );
      }) as grpc.handleUnaryCall<Record<string, unknown>, object>;
      impls.set(key, impl);
    }
    for (const [key, def] of byService) this.server.addService(def as grpc.ServiceDefinition, impls.get(key)!);
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(`unix://${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
    await rm(this.dir, { recursive: true, force: true });
  }
}
