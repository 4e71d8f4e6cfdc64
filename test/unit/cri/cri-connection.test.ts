import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { criApiRoot } from '../../../src/cri/cri-api-proto.js';
import { CriCallError, CriConnection, CriUnreachableError } from '../../../src/cri/cri-connection.js';
import { parseCriEndpoint, type CriEndpoint } from '../../../src/cri/cri-endpoint.js';
import { CriImageService } from '../../../src/cri/image-service.js';
import { FakeCriServer, StatusError } from './fake-cri-server.js';

const ID = 'sha256:' + 'e'.repeat(64);

function endpointOf(p: string): CriEndpoint {
  const r = parseCriEndpoint(p);
  if (!r.ok) throw new Error(r.error);
  return r.endpoint;
}

const statusHandler = (request: Record<string, unknown>) => {
  const spec = request.image as { image: string };
  if (spec.image !== 'nginx') return {};
  return {
    image: {
      id: ID,
      repoTags: ['docker.io/library/nginx:latest'],
      repoDigests: ['docker.io/library/nginx@sha256:' + 'f'.repeat(64)],
      size: 9_007_199_254_740_000,
      uid: { value: 101 },
      username: 'nginx',
      pinned: true,
    },
    info: { k: 'v' },
  };
};

describe('cri/cri-connection', () => {
  describe('wire format (upstream CRI field numbers)', () => {
    it('RemoveImageRequest{image: ImageSpec{image: "a"}} is field 1 inside field 1', () => {
      const t = criApiRoot().lookupType('runtime.v1.RemoveImageRequest');
      expect([...t.encode(t.fromObject({ image: { image: 'a' } })).finish()]).to.deep.equal([0x0a, 0x03, 0x0a, 0x01, 0x61]);
    });

    it('decodes an Image written field by field: id 1, repo_tags 2, repo_digests 3, size 4, uid 5, username 6, pinned 8', () => {
      const uid = protobuf.Writer.create().uint32((1 << 3) | 0).int64(7).finish();
      const w = protobuf.Writer.create();
      w.uint32((1 << 3) | 2).string('sha256:x');
      w.uint32((2 << 3) | 2).string('t:1');
      w.uint32((3 << 3) | 2).string('t@sha256:y');
      w.uint32((4 << 3) | 0).uint64(4_294_967_296);
      w.uint32((5 << 3) | 2).bytes(uid);
      w.uint32((6 << 3) | 2).string('u');
      w.uint32((8 << 3) | 0).bool(true);
      const res = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(w.finish()).finish();
      const t = criApiRoot().lookupType('runtime.v1.ImageStatusResponse');
      const decoded = t.toObject(t.decode(res), { longs: Number, defaults: true });
      expect(decoded.image).to.deep.include({ id: 'sha256:x', repoTags: ['t:1'], repoDigests: ['t@sha256:y'], size: 4_294_967_296, username: 'u', pinned: true });
      expect(decoded.image.uid).to.deep.equal({ value: 7 });
    });

    it('ListContainersResponse: Container state 6 and image_id 10', () => {
      const c = protobuf.Writer.create();
      c.uint32((1 << 3) | 2).string('cid');
      c.uint32((6 << 3) | 0).int32(1);
      c.uint32((10 << 3) | 2).string('sha256:i');
      const res = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(c.finish()).finish();
      const t = criApiRoot().lookupType('runtime.v1.ListContainersResponse');
      const decoded = t.toObject(t.decode(res), { enums: String, defaults: true, arrays: true });
      expect(decoded.containers[0]).to.deep.include({ id: 'cid', state: 'CONTAINER_RUNNING', imageId: 'sha256:i' });
    });
  });

  describe('against a fake runtime.v1 server', () => {
    const server = new FakeCriServer([
      { version: 'v1', service: 'ImageService', method: 'ImageStatus', handler: statusHandler },
      {
        version: 'v1',
        service: 'ImageService',
        method: 'RemoveImage',
        handler: () => {
          throw new StatusError(grpc.status.FAILED_PRECONDITION, 'image is in use by a container');
        },
      },
      { version: 'v1', service: 'ImageService', method: 'ListImages', handler: () => new Promise(() => undefined) },
    ]);
    let conn: CriConnection;
    before(async () => {
      await server.start();
      conn = new CriConnection(endpointOf(server.endpoint));
    });
    after(async () => {
      conn.close();
      await server.stop();
    });

    it('decodes ImageStatus; absent images come back undefined', async () => {
      const images = new CriImageService(conn);
      const img = await images.imageStatus('nginx');
      expect(img).to.deep.include({ id: ID, size: 9_007_199_254_740_000, username: 'nginx', pinned: true, repoTags: ['docker.io/library/nginx:latest'] });
      expect(await images.imageStatus('busybox')).to.equal(undefined);
      expect(conn.apiVersion).to.equal('v1');
    });

    it("keeps the runtime's status and message verbatim", async () => {
      let caught: unknown;
      await new CriImageService(conn).removeImage(ID).catch((e) => (caught = e));
      expect(caught).to.be.instanceOf(CriCallError);
      const e = caught as CriCallError;
      expect(e.code).to.equal(grpc.status.FAILED_PRECONDITION);
      expect(e.details).to.equal('image is in use by a container');
      expect(e.message).to.equal('ImageService/RemoveImage: FAILED_PRECONDITION: image is in use by a container');
    });

    it('a call without an answer ends at its deadline with a hint', async () => {
      let caught: unknown;
      await new CriImageService(conn, { callMs: 200, pullMs: 200 }).listImages().catch((e) => (caught = e));
      expect(caught).to.be.instanceOf(CriCallError);
      expect((caught as CriCallError).code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      expect((caught as CriCallError).details).to.contain('no answer within 200ms').and.contain('--timeout');
    });
  });

  describe('API version negotiation', () => {
    const server = new FakeCriServer([{ version: 'v1alpha2', service: 'ImageService', method: 'ImageStatus', handler: statusHandler }]);
    before(() => server.start());
    after(() => server.stop());

    it('falls back to runtime.v1alpha2 on UNIMPLEMENTED and stays there', async () => {
      const conn = new CriConnection(endpointOf(server.endpoint));
      try {
        const images = new CriImageService(conn);
        expect((await images.imageStatus('nginx'))?.id).to.equal(ID);
        expect(conn.apiVersion).to.equal('v1alpha2');
        await images.imageStatus('nginx');
        expect(server.calls).to.deep.equal(['v1alpha2/ImageService/ImageStatus', 'v1alpha2/ImageService/ImageStatus']);
      } finally {
        conn.close();
      }
    });

    it('a fixed v1 does not fall back', async () => {
      const conn = new CriConnection(endpointOf(server.endpoint), { apiVersion: 'v1' });
      try {
        let caught: unknown;
        await new CriImageService(conn).imageStatus('nginx').catch((e) => (caught = e));
        expect((caught as CriCallError).code).to.equal(grpc.status.UNIMPLEMENTED);
      } finally {
        conn.close();
      }
    });

    it('neither version: one error naming both', async () => {
      const conn = new CriConnection(endpointOf(server.endpoint));
      try {
        let caught: unknown;
        await new CriImageService(conn).removeImage('x').catch((e) => (caught = e));
        expect((caught as CriCallError).code).to.equal(grpc.status.UNIMPLEMENTED);
        expect((caught as CriCallError).details).to.contain('neither runtime.v1 nor runtime.v1alpha2 ImageService/RemoveImage');
      } finally {
        conn.close();
      }
    });
  });

  describe('unreachable runtime', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'kf-cri-unreach-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('waitForReady rejects with CriUnreachableError when nobody listens', async () => {
      const conn = new CriConnection(endpointOf(path.join(dir, 'none.sock')));
      try {
        let caught: unknown;
        await conn.waitForReady(300).catch((e) => (caught = e));
        expect(caught).to.be.instanceOf(CriUnreachableError);
        expect((caught as Error).message).to.contain(`cannot reach the CRI runtime at ${path.join(dir, 'none.sock')}`);
      } finally {
        conn.close();
      }
    });

    it('a socket that does not speak gRPC is unreachable, not a hang', async () => {
      const p = path.join(dir, 'plain.sock');
      const plain = createServer((s) => s.destroy());
      await new Promise<void>((resolve) => plain.listen(p, resolve));
      const conn = new CriConnection(endpointOf(p));
      try {
        let caught: unknown;
        await new CriImageService(conn, { callMs: 1000, pullMs: 1000 }).imageStatus('x').catch((e) => (caught = e));
        expect(caught).to.be.instanceOf(Error);
        expect(caught instanceof CriUnreachableError || (caught instanceof CriCallError && caught.code === grpc.status.DEADLINE_EXCEEDED)).to.equal(true);
      } finally {
        conn.close();
        await new Promise<void>((resolve) => plain.close(() => resolve()));
      }
    });
  });
});
