import { expect } from 'chai';
import { ANNOTATION_WORK, readJobWork } from '../../../src/jobs/job-labels.js';

describe('jobs/job-labels: readJobWork', () => {
  const work = { node: 'n1', action: 'pull', containers: { 'image-0': ['x.io/a:1'] } };
  it('reads the work annotation; each distinct annotation is parsed once, into a frozen value', () => {
    const raw = JSON.stringify(work);
    const a = readJobWork({ [ANNOTATION_WORK]: raw });
    expect(a).to.deep.equal(work);
    expect(readJobWork({ [ANNOTATION_WORK]: raw })).to.equal(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a!.containers) && Object.isFrozen(a!.containers['image-0'])).to.equal(true);
  });
  it('is undefined for a missing, unparsable or malformed annotation, every time', () => {
    for (const raw of [undefined, '', '{', JSON.stringify({ ...work, action: 'copy' }), JSON.stringify({ ...work, containers: null })]) {
      const annotations: Record<string, string> = raw === undefined ? {} : { [ANNOTATION_WORK]: raw };
      expect(readJobWork(annotations), String(raw)).to.equal(undefined);
      expect(readJobWork(annotations), String(raw)).to.equal(undefined);
    }
  });
});
