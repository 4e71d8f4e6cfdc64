import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiserverLog, formatWatchCloses, KWOK_POD_WATCH, watchCloses } from '../../../bench/support/watch-closes.js';

// lines as kube-apiserver v1.34.4 logged them in a 1,000-node bench run (2026-12-02)
const KWOK = 'I1202 14:11:50.120332   21819 cache_watcher.go:203] Forcing pods watcher close due to unresponsiveness: key: "/pods", labels: "", fields: "spec.nodeName!=". len(c.input) = 10, len(c.result) = 10, graceful = false';
const OURS = 'I1202 14:04:31.992536   21819 cache_watcher.go:203] Forcing jobs.batch watcher close due to unresponsiveness: key: "/jobs", labels: "app=kubefledged,kubefledged=kubefledged-image-manager", fields: "". len(c.input) = 10, len(c.result) = 10, graceful = false';
const NS = 'I1202 14:04:31.992461   21819 cache_watcher.go:203] Forcing jobs.batch watcher close due to unresponsiveness: key: "/jobs/kfb-mx673frs-yi9v", labels: "", fields: "". len(c.input) = 10, len(c.result) = 10, graceful = false';
const OTHER = 'I1202 14:04:32.000000   21819 httplog.go:134] "HTTP" verb="WATCH" URI="/api/v1/pods?watch=true"';

describe('bench: watches kube-apiserver closed as unresponsive', () => {
  it('counts each watch by resource, key, labels and fields, folding the bench namespaces', () => {
    const c = watchCloses([KWOK, OURS, OTHER, KWOK, NS, ''].join('\n'));
    expect([...c]).to.deep.equal([
      [KWOK_POD_WATCH, 2],
      ['jobs.batch /jobs labels app=kubefledged,kubefledged=kubefledged-image-manager', 1],
      ['jobs.batch /jobs/NS', 1],
    ]);
  });

  it('says how many, and kwok\'s pod watch apart', () => {
    expect(formatWatchCloses(new Map())).to.equal('kube-apiserver closed no slow watch');
    expect(formatWatchCloses(watchCloses([OURS, KWOK, KWOK].join('\n')))).to.equal(
      "kube-apiserver closed 3 slow watches (kwok's pod watch 2 times): pods /pods fields spec.nodeName!=: 2; jobs.batch /jobs labels app=kubefledged,kubefledged=kubefledged-image-manager: 1");
  });

  it('reads only what the log gained after the mark', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-watch-closes-'));
    try {
      fs.mkdirSync(path.join(dir, 'logs'));
      const file = path.join(dir, 'logs', 'kube-apiserver.log');
      const log = new ApiserverLog(dir);
      expect(log.mark()).to.equal(0); // no log yet
      expect(log.closesSince(0).size).to.equal(0);
      fs.writeFileSync(file, `${OURS}\n`);
      const mark = log.mark();
      expect(log.closesSince(mark).size).to.equal(0);
      fs.appendFileSync(file, `${KWOK}\n${OTHER}\n`);
      expect([...log.closesSince(mark)]).to.deep.equal([[KWOK_POD_WATCH, 1]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
