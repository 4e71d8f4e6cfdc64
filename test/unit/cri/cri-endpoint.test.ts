import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkSocket, parseCriEndpoint } from '../../../src/cri/cri-endpoint.js';

describe('cri/cri-endpoint', () => {
  describe('parseCriEndpoint', () => {
    it('accepts unix:///path, unix:/path and a bare absolute path', () => {
      for (const raw of ['unix:///run/containerd/containerd.sock', 'unix:/run/containerd/containerd.sock', '/run/containerd/containerd.sock']) {
        const r = parseCriEndpoint(raw);
        expect(r.ok, raw).to.equal(true);
        if (r.ok) {
          expect(r.endpoint.socketPath).to.equal('/run/containerd/containerd.sock');
          expect(r.endpoint.target).to.equal('unix:///run/containerd/containerd.sock');
          expect(r.endpoint.raw).to.equal(raw);
        }
      }
    });

    it('rejects other schemes, relative paths, empty and over-long paths with the fix', () => {
      const cases: Array<[string, RegExp]> = [
        ['tcp://127.0.0.1:10010', /scheme "tcp:" is not supported/],
        ['npipe:////./pipe/containerd', /scheme "npipe:" is not supported/],
        ['run/containerd.sock', /not an absolute socket path/],
        ['unix://run/containerd.sock', /not absolute/],
        ['', /empty/],
        [`unix:///${'x'.repeat(120)}`, /at most 107/],
      ];
      for (const [raw, message] of cases) {
        const r = parseCriEndpoint(raw);
        expect(r.ok, raw).to.equal(false);
        if (!r.ok) {
          expect(r.error, raw).to.match(message);
        }
      }
      const r = parseCriEndpoint('tcp://x:1');
      if (!r.ok) expect(r.error).to.contain('unix:///run/containerd/containerd.sock');
    });
  });

  describe('checkSocket', () => {
    let dir: string;
    let server: Server;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'kf-cri-endpoint-'));
      server = createServer();
      await new Promise<void>((resolve) => server.listen(path.join(dir, 'ok.sock'), resolve));
      await writeFile(path.join(dir, 'file'), 'not a socket');
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    });
    const endpoint = (p: string) => {
      const r = parseCriEndpoint(p);
      if (!r.ok) throw new Error(r.error);
      return r.endpoint;
    };

    it('ok for a listening unix socket', async () => {
      expect(await checkSocket(endpoint(path.join(dir, 'ok.sock')))).to.deep.equal({ ok: true });
    });

    it('names the missing path and the controller flag', async () => {
      const r = await checkSocket(endpoint(path.join(dir, 'missing.sock')));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.contain(`no CRI socket at ${path.join(dir, 'missing.sock')}`).and.contain('--cri-socket-path');
    });

    it('says when the path is not a socket', async () => {
      const r = await checkSocket(endpoint(path.join(dir, 'file')));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.contain('is not a unix socket');
    });
  });
});
