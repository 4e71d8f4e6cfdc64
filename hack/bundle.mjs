#!/usr/bin/env node
// The controller as one minified ES module, dist/bundle/controller.js: what the image, the chart, deploy/
// and `make run` start (after `tsc -p tsconfig.build.json`; `make build` and the Dockerfile run both).
//
// Why (issue 12, docs/benchmark.md "Memory"): V8 keeps the source text of every module it loads, and
// `import ... from '@kubernetes/client-node'` loads all of it: 1.4.0's index pulls in every generated
// API (ObservableAPI.js 6.2 MB, PromiseAPI.js 5.5 MB, ...: 21 MB of JavaScript), and the SDK
// (@dot-i/k8s-operator) requires its own client-node 0.20.0, as large again. Loaded from node_modules
// the two take 44 MiB of heap and about 110 MiB of RSS before the controller does anything. esbuild
// keeps only what is reachable from src/cmd/controller.ts (tree shaking of the ES modules) and minifies
// the rest: the same code of the same packages (the lock file's versions; nothing is replaced or
// patched), about 5 MB in all.
//
// --keep-names keeps function and class names (error names, stack traces, log lines stay readable); the
// source map beside the bundle is not loaded unless node runs with --enable-source-maps.
//
// Beside the bundle it writes the controller's launcher, dist/bundle/kubefledged-controller (the image's
// /opt/bin/kubefledged-controller runs it; so do `make run` and the bench), which starts node with the
// V8 flags below, and dist/bundle/controller.node-options holding the same flags for tools that start
// node themselves (bench/support/bench-controller.ts).
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// V8 flags of the controller (docs/benchmark.md "Memory"): V8's default young generation (16 MiB
// semi-spaces) lets every list and watch answer's garbage pile up to tens of MiB of RSS before a
// scavenge; a controller's objects are short-lived or long-lived, so small semi-spaces keep the peak
// near the live heap for a little more CPU. NODE_OPTIONS in the environment comes after these, so
// `NODE_OPTIONS=--max-semi-space-size=16` (or --max-old-space-size=...) overrides them.
export const CONTROLLER_NODE_FLAGS = ['--max-semi-space-size=2'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  absWorkingDir: root,
  entryPoints: { controller: 'src/cmd/controller.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  keepNames: true,
  sourcemap: 'external',
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins
  banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module'; const require = __kfCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

const flags = CONTROLLER_NODE_FLAGS.join(' ');
fs.writeFileSync(path.join(root, 'dist/bundle/controller.node-options'), `${flags}\n`);
fs.writeFileSync(path.join(root, 'dist/bundle/kubefledged-controller'), [
  '#!/bin/sh',
  '# the controller (dist/bundle/controller.js) with its V8 flags; written by hack/bundle.mjs',
  `NODE_OPTIONS="${flags}` + '${NODE_OPTIONS:+ $NODE_OPTIONS}" exec node "$(dirname "$0")/controller.js" "$@"',
  '',
].join('\n'), { mode: 0o755 });
