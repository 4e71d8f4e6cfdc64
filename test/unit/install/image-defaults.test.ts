// The defaults name this project's own image, one repository everywhere, tagged with the chart's
// appVersion: the chart's values, the controller's KUBEFLEDGED_CRI_CLIENT_IMAGE default, `make release`
// (IMAGE_REPO) and `make image` (hack/image/build.sh).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../../hack/chart/helm-binary.js';
import { DEFAULT_CRI_CLIENT_IMAGE } from '../../../src/api/constants.js';

const REPOSITORY = 'docker.io/kubefledgedts/kube-fledged';
const read = (...p: string[]) => fs.readFileSync(path.join(ROOT, ...p), 'utf8');

describe('install: default image references', () => {
  const appVersion = (parse(read('helm', 'kube-fledged', 'Chart.yaml')) as { appVersion: string }).appVersion;

  it('the chart names the one image for the controller, the webhook server and the delete Jobs', () => {
    const image = (parse(read('helm', 'kube-fledged', 'values.yaml')) as { image: Record<string, string> }).image;
    expect([image.kubefledgedControllerRepository, image.kubefledgedWebhookServerRepository, image.kubefledgedCRIClientRepository])
      .to.deep.equal([REPOSITORY, REPOSITORY, REPOSITORY]);
    expect(image.tag, 'empty: the appVersion').to.equal('');
  });

  it('the controller defaults KUBEFLEDGED_CRI_CLIENT_IMAGE to that image at the chart appVersion', () => {
    expect(DEFAULT_CRI_CLIENT_IMAGE).to.equal(`${REPOSITORY}:${appVersion}`);
  });

  it('make release and make image build that repository', () => {
    expect(read('hack', 'make', 'release.mk')).to.match(new RegExp(`^IMAGE_REPO \\?= ${REPOSITORY.replace(/\./g, '\\.')}$`, 'm'));
    expect(read('hack', 'image', 'build.sh')).to.contain(`IMAGE="\${IMAGE:-${REPOSITORY}:$app_version}"`);
  });

  it('no default names the original project\'s images any more', () => {
    for (const f of ['helm/kube-fledged/values.yaml', 'src/api/constants.ts', 'hack/make/release.mk', 'deploy/kubefledged-deployment-controller.yaml', 'deploy/kubefledged-deployment-webhook-server.yaml']) {
      expect(read(f), f).not.to.match(/senthilrch\/kubefledged-/);
    }
  });
});
