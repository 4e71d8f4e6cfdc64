import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CriContainer, CriImage } from '../../../src/cri/cri-api-proto.js';
import { CriCallError, CriUnreachableError } from '../../../src/cri/cri-connection.js';
import { summarizeRemovals } from '../../../src/cri/cri-client-cli.js';
import { containersUsingImage, isImageId, lookupNames, removeImage, removeImages } from '../../../src/cri/image-removal.js';
import type { ImageServiceApi } from '../../../src/cri/image-service.js';
import type { RuntimeServiceApi } from '../../../src/cri/runtime-service.js';

const ID = 'sha256:' + 'a'.repeat(64);

function image(partial: Partial<CriImage> = {}): CriImage {
  return { id: ID, repoTags: ['docker.io/library/nginx:latest'], repoDigests: ['docker.io/library/nginx@sha256:' + 'd'.repeat(64)], size: 1, username: '', pinned: false, ...partial };
}

function container(partial: Partial<CriContainer> = {}): CriContainer {
  return {
    id: 'c'.repeat(64),
    podSandboxId: 's'.repeat(64),
    metadata: { name: 'web', attempt: 0 },
    image: { image: ID },
    imageRef: ID,
    state: 'CONTAINER_RUNNING',
    createdAt: 1,
    labels: { 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.name': 'web-1' },
    annotations: {},
    imageId: '',
    ...partial,
  };
}

/** A runtime with a set of images known under several names. */
class FakeImages implements ImageServiceApi {
  readonly statusCalls: string[] = [];
  readonly removeCalls: string[] = [];
  removeError: Error | undefined;
  statusError: Error | undefined;
  keepAfterRemove = false;
  constructor(public names: Map<string, CriImage>) {}
  async imageStatus(name: string): Promise<CriImage | undefined> {
    this.statusCalls.push(name);
    if (this.statusError) throw this.statusError;
    return this.names.get(name);
  }
  async removeImage(name: string): Promise<void> {
    this.removeCalls.push(name);
    if (this.removeError) throw this.removeError;
    if (this.keepAfterRemove) return;
    const target = this.names.get(name);
    for (const [k, v] of [...this.names]) if (v === target) this.names.delete(k);
  }
}

class FakeRuntime implements RuntimeServiceApi {
  constructor(
    public containers: CriContainer[] = [],
    public error?: Error,
  ) {}
  async listContainers(): Promise<CriContainer[]> {
    if (this.error) throw this.error;
    return this.containers;
  }
}

/** The way containerd indexes an image: tag, digest reference and ID (full name forms only). */
function indexed(img: CriImage): Map<string, CriImage> {
  return new Map([...img.repoTags, ...img.repoDigests, img.id].map((n) => [n, img]));
}

describe('cri/image-removal', () => {
  describe('lookupNames', () => {
    it('asks for the reference as given, then fully qualified', () => {
      expect(lookupNames('nginx')).to.deep.equal({ ok: true, names: ['nginx', 'docker.io/library/nginx:latest'] });
      expect(lookupNames('localhost:5000/app')).to.deep.equal({ ok: true, names: ['localhost:5000/app', 'localhost:5000/app:latest'] });
      expect(lookupNames('docker.io/library/nginx:1.27')).to.deep.equal({ ok: true, names: ['docker.io/library/nginx:1.27'] });
    });

    it('passes image IDs through untouched', () => {
      expect(lookupNames(ID)).to.deep.equal({ ok: true, names: [ID] });
      expect(lookupNames('0123456789ab')).to.deep.equal({ ok: true, names: ['0123456789ab'] });
      expect(isImageId('0123456789a')).to.equal(false);
      expect(isImageId('sha256:abc')).to.equal(false);
    });

    it('rejects an invalid reference with the parser message', () => {
      const r = lookupNames('nginx;reboot');
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.contain('shell metacharacter');
    });
  });

  describe('containersUsingImage', () => {
    it('matches by image ID, image_ref, or the tag the container was created with; ignores exited ones', () => {
      const img = image();
      const byRef = container();
      const byTag = container({ id: '1', imageRef: '', image: { image: 'docker.io/library/nginx:latest' } });
      const byImageId = container({ id: '2', imageRef: '', image: null, imageId: ID });
      const exited = container({ id: '3', state: 'CONTAINER_EXITED' });
      const other = container({ id: '4', imageRef: 'sha256:' + 'b'.repeat(64), image: { image: 'busybox' } });
      expect(containersUsingImage(img, [byRef, byTag, byImageId, exited, other]).map((c) => c.id)).to.deep.equal([byRef.id, '1', '2']);
    });
  });

  describe('removeImage', () => {
    it('resolves a short name through its normalised form and removes by ID', async () => {
      const img = image();
      const images = new FakeImages(indexed(img));
      const r = await removeImage('nginx', { images, runtime: new FakeRuntime() });
      expect(r).to.deep.include({ image: 'nginx', outcome: 'removed', ok: true, imageId: ID, repoTags: ['docker.io/library/nginx:latest'] });
      expect(r.message).to.equal(`nginx: removed image ${ID}, tags docker.io/library/nginx:latest`);
      expect(images.statusCalls).to.deep.equal(['nginx', 'docker.io/library/nginx:latest', ID]);
      expect(images.removeCalls).to.deep.equal([ID]);
    });

    it('an absent image is success: "not present", nothing removed', async () => {
      const images = new FakeImages(new Map());
      const r = await removeImage('registry.example.com:5000/team/app:1.0', { images });
      expect(r).to.deep.include({ outcome: 'not-present', ok: true });
      expect(r.message).to.equal('registry.example.com:5000/team/app:1.0: not present on this node, nothing to remove');
      expect(images.removeCalls).to.deep.equal([]);
      const short = await removeImage('nginx', { images });
      expect(short.message).to.contain('(looked up as nginx and docker.io/library/nginx:latest)');
    });

    it('refuses an image used by a running container, naming the container and pod', async () => {
      const images = new FakeImages(indexed(image()));
      const r = await removeImage('docker.io/library/nginx:latest', { images, runtime: new FakeRuntime([container()]) });
      expect(r).to.deep.include({ outcome: 'in-use', ok: false, imageId: ID });
      expect(r.message).to.equal(`docker.io/library/nginx:latest: image ${ID} is in use by container web (ccccccccccccc, running in pod default/web-1); not removed`);
      expect(images.removeCalls).to.deep.equal([]);
    });

    it('lists at most three users', async () => {
      const images = new FakeImages(indexed(image()));
      const users = ['a', 'b', 'c', 'd', 'e'].map((n) => container({ id: n.repeat(64), metadata: { name: n, attempt: 0 }, labels: {} }));
      const r = await removeImage(ID, { images, runtime: new FakeRuntime(users) });
      expect(r.message).to.match(/in use by containers a \(a+, running\), b \(b+, running\), c \(c+, running\) and 2 more; not removed$/);
    });

    it('removes an image whose only containers have exited', async () => {
      const images = new FakeImages(indexed(image()));
      const r = await removeImage(ID, { images, runtime: new FakeRuntime([container({ state: 'CONTAINER_EXITED' })]) });
      expect(r.outcome).to.equal('removed');
    });

    it('refuses a pinned image (the sandbox image)', async () => {
      const images = new FakeImages(indexed(image({ pinned: true })));
      const r = await removeImage('docker.io/library/nginx:latest', { images });
      expect(r).to.deep.include({ outcome: 'pinned', ok: false });
      expect(r.message).to.contain('pinned by the runtime');
      expect(images.removeCalls).to.deep.equal([]);
    });

    it("carries the runtime's message when RemoveImage fails", async () => {
      const images = new FakeImages(indexed(image()));
      images.removeError = new CriCallError('ImageService/RemoveImage', grpc.status.UNKNOWN, 'image used by 1234: image is in use by a container');
      const r = await removeImage('docker.io/library/nginx:latest', { images });
      expect(r).to.deep.include({ outcome: 'failed', ok: false });
      expect(r.message).to.equal(
        `docker.io/library/nginx:latest: removing image ${ID}: ImageService/RemoveImage failed: UNKNOWN: image used by 1234: image is in use by a container`,
      );
    });

    it('NOT_FOUND from RemoveImage means it went meanwhile: success', async () => {
      const images = new FakeImages(indexed(image()));
      images.removeError = new CriCallError('ImageService/RemoveImage', grpc.status.NOT_FOUND, 'not found');
      const r = await removeImage(ID, { images });
      expect(r).to.deep.include({ outcome: 'not-present', ok: true });
    });

    it('a runtime that still lists the image after RemoveImage is a failure', async () => {
      const images = new FakeImages(indexed(image()));
      images.keepAfterRemove = true;
      const r = await removeImage(ID, { images });
      expect(r).to.deep.include({ outcome: 'failed', ok: false });
      expect(r.message).to.contain('accepted RemoveImage but still lists image');
    });

    it('an ImageStatus error is a failure of that image', async () => {
      const images = new FakeImages(new Map());
      images.statusError = new CriCallError('ImageService/ImageStatus', grpc.status.INTERNAL, 'boom');
      const r = await removeImage('nginx', { images });
      expect(r).to.deep.include({ outcome: 'failed', ok: false, message: 'nginx: ImageService/ImageStatus failed: INTERNAL: boom' });
    });

    it('an unreachable runtime is not swallowed', async () => {
      const images = new FakeImages(new Map());
      images.statusError = new CriUnreachableError('unix:///x.sock', 'connection refused');
      let caught: unknown;
      await removeImage('nginx', { images }).catch((e) => (caught = e));
      expect(caught).to.be.instanceOf(CriUnreachableError);
    });

    it('when ListContainers fails it warns and still removes', async () => {
      const images = new FakeImages(indexed(image()));
      const warnings: string[] = [];
      const r = await removeImage(ID, {
        images,
        runtime: new FakeRuntime([], new CriCallError('RuntimeService/ListContainers', grpc.status.UNIMPLEMENTED, 'unknown service')),
        warn: (m) => warnings.push(m),
      });
      expect(r.outcome).to.equal('removed');
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.contain('could not list containers').and.contain('UNIMPLEMENTED');
    });

    it('an invalid reference never reaches the runtime', async () => {
      const images = new FakeImages(new Map());
      const r = await removeImage('$(reboot)', { images });
      expect(r).to.deep.include({ outcome: 'invalid-reference', ok: false });
      expect(r.message).to.match(/^invalid image reference "\$\(reboot\)": it contains the shell metacharacter/);
      expect(images.statusCalls).to.deep.equal([]);
    });
  });

  describe('removeImages and the termination line', () => {
    it('handles each image, failures first in the summary', async () => {
      const img = image();
      const images = new FakeImages(indexed(img));
      const results = await removeImages(['busybox', 'docker.io/library/nginx:latest', 'Bad'], { images });
      expect(results.map((r) => r.outcome)).to.deep.equal(['not-present', 'removed', 'invalid-reference']);
      const line = summarizeRemovals(results);
      expect(line.startsWith('invalid image reference "Bad"')).to.equal(true);
      expect(line).to.contain('; busybox: not present on this node').and.contain(`; docker.io/library/nginx:latest: removed image ${ID}`);
    });
  });
});
