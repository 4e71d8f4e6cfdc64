import { expect } from 'chai';
import {
  buildCriClientContainer,
  buildCriSocketVolume,
  containerCriEndpoint,
  CriSocketReason,
  CRI_CLIENT_COMMAND,
  CRI_SOCKET_MOUNT_PATH,
  CRI_SOCKET_VOLUME_NAME,
  runtimeFromVersion,
  selectCriSocket,
} from '../../../src/cri/runtime-socket.js';

describe('cri/runtime-socket', () => {
  describe('runtimeFromVersion', () => {
    it('reads the scheme of containerRuntimeVersion', () => {
      expect(runtimeFromVersion('containerd://1.7.2')).to.equal('containerd');
      expect(runtimeFromVersion('cri-o://1.29.1')).to.equal('cri-o');
      expect(runtimeFromVersion('crio://1.20.0')).to.equal('cri-o');
      expect(runtimeFromVersion('docker://24.0.7')).to.equal('docker');
      expect(runtimeFromVersion('CONTAINERD://1.6.8')).to.equal('containerd');
    });

    it('does not match by substring (the original did)', () => {
      expect(runtimeFromVersion('remote://containerd-shim')).to.equal(undefined);
      expect(runtimeFromVersion('docker-containerd')).to.equal(undefined);
      expect(runtimeFromVersion('')).to.equal(undefined);
      expect(runtimeFromVersion('frakti://1.0')).to.equal(undefined);
    });
  });

  describe('selectCriSocket', () => {
    it('containerd -> /run/containerd/containerd.sock', () => {
      expect(selectCriSocket('containerd://1.7.2', '')).to.deep.equal({
        ok: true,
        runtime: 'containerd',
        socketPath: '/run/containerd/containerd.sock',
        endpoint: 'unix:///run/containerd/containerd.sock',
        fromFlag: false,
      });
    });

    it('cri-o -> /var/run/crio/crio.sock', () => {
      const s = selectCriSocket('cri-o://1.29.1', '');
      expect(s).to.include({ ok: true, runtime: 'cri-o', socketPath: '/var/run/crio/crio.sock', endpoint: 'unix:///var/run/crio/crio.sock' });
    });

    it('docker -> cri-dockerd socket', () => {
      const s = selectCriSocket('docker://24.0.7', '');
      expect(s).to.include({ ok: true, runtime: 'docker', socketPath: '/var/run/cri-dockerd.sock' });
    });

    it('k3s / RKE2 containerd -> /run/k3s/containerd/containerd.sock', () => {
      expect(selectCriSocket('containerd://1.7.11-k3s2', '')).to.include({ ok: true, socketPath: '/run/k3s/containerd/containerd.sock' });
    });

    it('--cri-socket-path wins over the runtime default', () => {
      expect(selectCriSocket('containerd://1.7.2', '/run/k3s/containerd/containerd.sock')).to.deep.equal({
        ok: true,
        runtime: 'containerd',
        socketPath: '/run/k3s/containerd/containerd.sock',
        endpoint: 'unix:///run/k3s/containerd/containerd.sock',
        fromFlag: true,
      });
      expect(selectCriSocket('docker://24.0.7', '/var/run/custom/cri.sock')).to.include({ socketPath: '/var/run/custom/cri.sock', runtime: 'docker' });
    });

    it('--cri-socket-path accepts unix:// and normalises the path', () => {
      expect(selectCriSocket('cri-o://1.29.1', 'unix:///var/run//crio/./crio.sock')).to.include({ ok: true, socketPath: '/var/run/crio/crio.sock' });
    });

    it('--cri-socket-path names the socket even for an unknown runtime', () => {
      expect(selectCriSocket('frakti://1.0', '/run/frakti.sock')).to.include({ ok: true, runtime: 'unknown', socketPath: '/run/frakti.sock' });
    });

    it('refuses a relative or directory --cri-socket-path with a clear reason', () => {
      const rel = selectCriSocket('containerd://1.7.2', 'run/containerd.sock');
      expect(rel).to.include({ ok: false, reason: CriSocketReason.InvalidCriSocketPath });
      if (!rel.ok) expect(rel.message).to.contain('not an absolute path').and.contain('--cri-socket-path=/run/containerd/containerd.sock');
      const dir = selectCriSocket('containerd://1.7.2', '/run/containerd/');
      expect(dir).to.include({ ok: false, reason: CriSocketReason.InvalidCriSocketPath });
      if (!dir.ok) expect(dir.message).to.contain('names a directory');
    });

    it('an unknown runtime without the flag is refused with a reason', () => {
      const s = selectCriSocket('frakti://1.0', '');
      expect(s).to.include({ ok: false, reason: 'UnknownContainerRuntime' });
      if (!s.ok) expect(s.message).to.contain('"frakti://1.0"').and.contain('--cri-socket-path');
    });

    it('a node that reports no runtime is refused with its own reason', () => {
      const s = selectCriSocket('', '');
      expect(s).to.include({ ok: false, reason: 'ContainerRuntimeNotReported' });
      if (!s.ok) expect(s.message).to.contain('containerRuntimeVersion is empty');
    });
  });

  describe('buildCriSocketVolume', () => {
    it("mounts the socket's directory with type Directory, never Socket", () => {
      expect(buildCriSocketVolume('/run/containerd/containerd.sock')).to.deep.equal({
        name: CRI_SOCKET_VOLUME_NAME,
        hostPath: { path: '/run/containerd', type: 'Directory' },
      });
      expect(buildCriSocketVolume('/var/run/cri-dockerd.sock').hostPath).to.deep.equal({ path: '/var/run', type: 'Directory' });
    });
  });

  describe('buildCriClientContainer', () => {
    const images = ['nginx:1.27', 'registry.example.com:5000/team/app@sha256:' + 'a'.repeat(64)];

    it('runs the client from /opt/bin with the images as separate arguments after "--"', () => {
      const c = buildCriClientContainer({ image: 'kubefledged/kubefledged:v0.11.0', socketPath: '/run/containerd/containerd.sock', images });
      expect(c).to.deep.equal({
        name: 'cri-client',
        image: 'kubefledged/kubefledged:v0.11.0',
        imagePullPolicy: 'IfNotPresent',
        command: [CRI_CLIENT_COMMAND],
        args: ['rmi', '--runtime-endpoint', `unix://${CRI_SOCKET_MOUNT_PATH}/containerd.sock`, '--', ...images],
        volumeMounts: [{ name: CRI_SOCKET_VOLUME_NAME, mountPath: CRI_SOCKET_MOUNT_PATH, readOnly: true }],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'FallbackToLogsOnError',
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      });
      expect(CRI_CLIENT_COMMAND).to.equal('/opt/bin/kubefledged-cri-client');
    });

    it('never builds a shell command, whatever the image string holds', () => {
      const evil = 'nginx; rm -rf /';
      const c = buildCriClientContainer({ image: 'x', socketPath: '/run/containerd/containerd.sock', images: [evil, '--timeout=1ms'] });
      expect(c.command).to.deep.equal([CRI_CLIENT_COMMAND]);
      expect(c.args?.slice(-3)).to.deep.equal(['--', evil, '--timeout=1ms']);
      expect(JSON.stringify(c)).not.to.contain('bash');
    });

    it('the endpoint inside the container points into the mounted directory', () => {
      expect(containerCriEndpoint('/var/run/crio/crio.sock')).to.equal(`unix://${CRI_SOCKET_MOUNT_PATH}/crio.sock`);
      const volume = buildCriSocketVolume('/var/run/crio/crio.sock');
      const c = buildCriClientContainer({ image: 'x', socketPath: '/var/run/crio/crio.sock', images: ['a'] });
      expect(c.volumeMounts?.[0]?.name).to.equal(volume.name);
    });

    it('takes a pull policy and a container name', () => {
      const c = buildCriClientContainer({ image: 'x', socketPath: '/s/c.sock', images: ['a'], pullPolicy: 'Always', name: 'cri-client-3' });
      expect(c.imagePullPolicy).to.equal('Always');
      expect(c.name).to.equal('cri-client-3');
    });

    it('refuses an empty image list or an empty client image', () => {
      expect(() => buildCriClientContainer({ image: 'x', socketPath: '/s/c.sock', images: [] })).to.throw(/images is empty/);
      expect(() => buildCriClientContainer({ image: ' ', socketPath: '/s/c.sock', images: ['a'] })).to.throw(/KUBEFLEDGED_CRI_CLIENT_IMAGE/);
    });
  });
});
