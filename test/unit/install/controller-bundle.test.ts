// The controller's bundle (hack/bundle.mjs): the SDK's CommonJS require of client-node is given only
// the names the SDK reads, so that the rest of client-node is tree-shaken, and node-fetch's require of
// whatwg-url is given node's URL (docs/benchmark.md "Memory").
import { expect } from 'chai';
import { build, type Metafile } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SDK_CLIENT_NODE_EXPORTS, bundleOptions } from '../../../hack/bundle.mjs';
import { ROOT } from '../../../hack/chart/helm-binary.js';

const SDK_SOURCE = path.join(ROOT, 'node_modules', '@dot-i', 'k8s-operator', 'dist', 'operator.js');
const NODE_FETCH_SOURCE = path.join(ROOT, 'node_modules', 'node-fetch', 'lib', 'index.js');

/** The names the SDK's compiled source reads from each binding of require("@kubernetes/client-node"). */
export function sdkClientNodeNames(source: string): string[] {
  const bindings = [...source.matchAll(/\b(?:const|var|let)\s+(\w+)\s*=\s*(?:__importStar\()?require\("@kubernetes\/client-node"\)/g)]
    .map((m) => m[1] ?? '');
  const names = new Set<string>();
  for (const b of bindings) {
    for (const m of source.matchAll(new RegExp(`(?<![\\w.])${b}\\.(\\w+)`, 'g'))) names.add(m[1] ?? '');
    // a computed read (k8s[name]) would need the whole namespace: the shim could not be used
    expect(source, `the SDK reads ${b}[...]`).to.not.match(new RegExp(`\\b${b}\\s*\\[`));
  }
  expect(bindings, 'the SDK requires client-node').to.not.be.empty;
  return [...names].sort();
}

describe('install: the controller bundle (hack/bundle.mjs)', function () {
  this.timeout(60_000);

  it('gives the SDK every client-node name it reads (an SDK upgrade that reads another fails here)', () => {
    expect(sdkClientNodeNames(fs.readFileSync(SDK_SOURCE, 'utf8'))).to.deep.equal([...SDK_CLIENT_NODE_EXPORTS].sort());
  });

  it('finds the names read through both kinds of binding, and refuses a computed read', () => {
    const src = 'const k8s = __importStar(require("@kubernetes/client-node"));\nconst client_node_1 = require("@kubernetes/client-node");\n'
      + 'new k8s.KubeConfig(); client_node_1.Watch; k8s.CoreV1Api;';
    expect(sdkClientNodeNames(src)).to.deep.equal(['CoreV1Api', 'KubeConfig', 'Watch']);
    expect(() => sdkClientNodeNames(`${src}\nk8s[name];`)).to.throw(/reads k8s\[/);
  });

  it("gives node-fetch node's URL for whatwg-url: node-fetch reads only its URL, and only when node has none", () => {
    const src = fs.readFileSync(NODE_FETCH_SOURCE, 'utf8');
    const binding = /\bvar (\w+) = _interopDefault\(require\('whatwg-url'\)\);/.exec(src)?.[1];
    expect(binding, "node-fetch's require('whatwg-url')").to.be.a('string');
    const reads = [...src.matchAll(new RegExp(`(?<![\\w.])${binding}\\b(.{0,4})`, 'g'))].map((m) => m[1] ?? '').filter((rest) => !rest.startsWith(' = _'));
    expect(reads).to.not.be.empty;
    expect(reads.every((r) => r.startsWith('.URL')), reads.join(' | ')).to.equal(true);
    expect([...src.matchAll(new RegExp(`(\\S+) \\|\\| ${binding}\\.URL`, 'g'))].map((m) => m[1])).to.have.length(reads.length).and.to.satisfy((l: string[]) => l.every((x) => x === 'Url.URL'));
  });

  it('leaves out the client-node APIs nothing calls, and keeps the ones the controller and the SDK use', async () => {
    const r = await build({ ...bundleOptions(path.join(ROOT, 'dist', 'bundle-test')), write: false, metafile: true, sourcemap: false, logLevel: 'error' });
    const out = Object.values((r.metafile as Metafile).outputs).find((o) => o.entryPoint === 'src/cmd/controller.ts');
    expect(out, 'the controller entry').to.not.equal(undefined);
    // the metafile lists every input it read, with 0 to 41 bytes for what tree shaking left out
    const apis = Object.entries(out!.inputs).filter(([, i]) => i.bytesInOutput > 1024).map(([f]) => /client-node\/dist\/gen\/apis\/(\w+)\.js$/.exec(f)?.[1]).filter((a): a is string => !!a).sort();
    // every API class of the package was bundled (60) while the SDK's require took the whole namespace
    expect(apis).to.include.members(['BatchV1Api', 'CoreV1Api', 'CoordinationV1Api', 'CustomObjectsApi', 'ApiextensionsV1Api']);
    expect(apis).to.not.include('AppsV1Api');
    expect(apis.length).to.be.below(12, apis.join(', '));
    const packages = new Set(Object.entries(out!.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([f]) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]));
    expect([...packages].filter((p) => p === 'whatwg-url' || p === 'tr46')).to.deep.equal([]);
    expect(out!.bytes).to.be.below(2_500_000);
  });
});
