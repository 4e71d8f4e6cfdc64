#!/usr/bin/env node
// The controller as one minified ES module, dist/bundle/controller.js: what the image, the chart, deploy/
// and `make run` start (after `tsc -p tsconfig.build.json`; `make build` and the Dockerfile run both).
//
// Why (issue 12, docs/benchmark.md "Memory"): V8 keeps the source text of every module it loads, and
// `import ... from '@kubernetes/client-node'` loads all of it: 1.4.0's index pulls in every generated
// API (ObservableAPI.js 6.2 MB, PromiseAPI.js 5.5 MB, ...: 21 MB of JavaScript); until package.json's
// "overrides" gave the SDK (@dot-i/k8s-operator) the project's 1.4.0, it loaded its own client-node
// 0.20.0 as well, as large again, and the two took 44 MiB of heap from node_modules. esbuild keeps
// only what is reachable from src/cmd/controller.ts (tree shaking of the ES modules) and minifies the
// rest: the same code of the same packages (the lock file's versions; nothing is patched), 1.9 MB with
// the two plugins below (4.0 MB without).
//
// The SDK is CommonJS: its require('@kubernetes/client-node') asks for the package's whole namespace, and
// a namespace object keeps every export, so esbuild kept all of client-node's generated APIs for it
// (ObservableAPI.js, ObjectParamAPI.js, 60 API request factories: 2.9 MB of the 4.0 MB bundle), loaded,
// compiled and kept by V8 although nothing calls them. SDK_CLIENT_NODE_EXPORTS is what the SDK reads from
// that namespace (test/unit/install/controller-bundle.test.ts reads the SDK's source to hold it true);
// the SDK's require is given a module that re-exports only those, and the rest of client-node is
// tree-shaken like any ES module: 2.2 MB. node-fetch's whatwg-url is the other plugin (below).
//
// --keep-names keeps function and class names (error names, stack traces, log lines stay readable); the
// source map beside the bundle is not loaded unless node runs with --enable-source-maps.
//
// Beside the bundle it writes the controller's launcher, dist/bundle/kubefledged-controller (the image's
// /opt/bin/kubefledged-controller runs it; so does `make run`), which starts node with the memory settings
// below, and dist/bundle/controller.node-options holding its NODE_OPTIONS flags. Tools that start node
// themselves (bench/support/bench-controller.ts) import the settings from this file: importing it does
// not build.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

// The controller's memory settings (docs/benchmark.md "Memory"), measured at 200 and 1,000 nodes:
//
// NODE_OPTIONS (V8 flags node accepts there): V8's default young generation (16 MiB semi-spaces) lets
// every list and watch answer's garbage pile up to tens of MiB of RSS before a scavenge; a controller's
// objects are short-lived or long-lived, so small semi-spaces keep the peak near the live heap for a
// little more CPU: 1 MiB semi-spaces (2 MiB of new space in all) took the peak at 200 nodes 1-2 MiB below
// 2 MiB ones. NODE_OPTIONS in the environment comes after these, so
// `NODE_OPTIONS=--max-semi-space-size=16` (or --max-old-space-size=...) overrides them.
export const CONTROLLER_NODE_FLAGS = ['--max-semi-space-size=1'];

// node's own command line (V8 flags node refuses in NODE_OPTIONS): V8 starts with a large old-generation
// limit and grows it up to 4x the live heap after each full GC, so list and watch garbage reaches
// 100-150 MiB before the first mark-compact at 200 nodes (33 MiB live). A first limit of 32 MiB and a
// growth of 1.3x the live heap make it collect sooner. None caps the heap (no --max-old-space-size: a
// bigger cluster gets a bigger heap, never an out-of-memory exit). --optimize-for-size, shipped until
// 2026-12-02 for 3-5 MiB off the 200-node peak, is not: it makes V8 favour memory over speed in its
// compilers too, and at 1,000 nodes x 50 images the controller's passes took 2-4x their CPU with it
// (bench/planning-pass.ts: 73 against 18 ms a pass; docs/benchmark.md "The controller's CPU at 1,000 x
// 50"), CPU taken from the control plane on the same cores. KUBEFLEDGED_CONTROLLER_NODE_ARGS in the
// environment replaces them ("" for V8's defaults).
export const CONTROLLER_NODE_ARGS = ['--initial-old-space-size=32', '--heap-growing-percent=30'];

// The environment (each kept when already set): glibc's malloc serves requests below its mmap threshold
// from its heap, and that threshold grows (up to 32 MiB) with the first large frees. V8's compiler
// zones (32 KiB segments; 30 MiB at once while the 5 MB bundle is compiled at start-up) then stay in
// glibc's heap after they are freed, behind live blocks that keep it from shrinking: 30 MiB of the
// 110 MiB RSS of an idle controller. A fixed threshold gives each such block its own mapping, returned
// to the kernel when freed: 32 KiB did that for the zones; 16 KiB does it also for the 16 KiB buffers
// node's TLS layer reads the watches' answers into, which left glibc's heap at 27 MiB at the peak of
// a 1,000 x 50 x 10 create (22 MiB with 16 KiB, peak 149.7 -> 146.0 MiB, the controller's CPU alike).
// MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs (V8's GC and compiler threads, libuv's pool)
// an arena of its own, each keeping its freed blocks; two arenas in all kept 1-2 MiB less at the peak.
export const CONTROLLER_ENV = { MALLOC_MMAP_THRESHOLD_: '16384', MALLOC_ARENA_MAX: '2' };

/** The names the SDK (@dot-i/k8s-operator) reads from client-node: all its require() of it is given. */
export const SDK_CLIENT_NODE_EXPORTS = ['KubeConfig', 'CoreV1Api', 'ApiextensionsV1Api', 'Watch', 'loadYaml'];

/** esbuild plugin: the SDK's require('@kubernetes/client-node') resolves to a module of SDK_CLIENT_NODE_EXPORTS only. */
export const sdkClientNodePlugin = {
  name: 'sdk-client-node',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) =>
      args.importer.includes(`${path.sep}@dot-i${path.sep}k8s-operator${path.sep}`) ? { path: 'client-node-for-the-sdk', namespace: 'sdk-client-node' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'sdk-client-node' }, () => ({
      contents: `export { ${SDK_CLIENT_NODE_EXPORTS.join(', ')} } from '@kubernetes/client-node';`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

// node-fetch 2 (client-node's HTTP client) requires whatwg-url at load for its URL class, which it takes
// only when node has none (`Url.URL || whatwgUrl.URL`); whatwg-url loads tr46, whose IDNA table is parsed
// into some 27,000 arrays at start-up (1.6 MiB of heap in all, 0.3 MB of the bundle). node 20 has URL:
// node-fetch's require('whatwg-url') is given node's (test/unit/install/controller-bundle.test.ts reads
// node-fetch's source to hold "only URL, and node's first" true).
export const nodeFetchUrlPlugin = {
  name: 'node-fetch-url',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, (args) =>
      args.importer.includes(`${path.sep}node-fetch${path.sep}`) ? { path: 'url-for-node-fetch', namespace: 'node-fetch-url' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'node-fetch-url' }, () => ({ contents: "module.exports = { URL: require('node:url').URL };", resolveDir: root, loader: 'js' }));
  },
};

/** The build's esbuild options (outdir: where it writes). */
export function bundleOptions(outdir) {
  return {
    absWorkingDir: root,
    // the watch thread's code (src/kube/watch-thread.ts starts it from beside the bundle)
    entryPoints: { controller: 'src/cmd/controller.ts', 'watch-thread-worker': 'src/kube/watch-thread-worker.ts' },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: 'external',
    // CommonJS packages inside an ES module bundle call require() for Node's built-ins
    banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module'; const require = __kfCreateRequire(import.meta.url);" },
    plugins: [sdkClientNodePlugin, nodeFetchUrlPlugin],
    logLevel: 'warning',
  };
}

/** The launcher dist/bundle/kubefledged-controller: sh, starts controller.js beside it with the settings above. */
export function launcherScript() {
  const lines = [
    '#!/bin/sh',
    '# the controller (dist/bundle/controller.js) with its memory settings; written by hack/bundle.mjs',
    '# (docs/benchmark.md "Memory")',
  ];
  for (const [k, v] of Object.entries(CONTROLLER_ENV)) lines.push(`export ${k}="\${${k}:-${v}}"`);
  lines.push(
    `node_args='${CONTROLLER_NODE_ARGS.join(' ')}'`,
    '[ -n "${KUBEFLEDGED_CONTROLLER_NODE_ARGS+set}" ] && node_args="$KUBEFLEDGED_CONTROLLER_NODE_ARGS"',
    '# shellcheck disable=SC2086 # node_args is a list of flags',
    `NODE_OPTIONS="${CONTROLLER_NODE_FLAGS.join(' ')}` + '${NODE_OPTIONS:+ $NODE_OPTIONS}" exec node $node_args "$(dirname "$0")/controller.js" "$@"',
    '',
  );
  return lines.join('\n');
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// importing this file (the bench, its test) only reads the settings above; running it builds
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await build(bundleOptions(path.join(root, 'dist/bundle')));

  fs.writeFileSync(path.join(root, 'dist/bundle/controller.node-options'), `${CONTROLLER_NODE_FLAGS.join(' ')}\n`);
  fs.writeFileSync(path.join(root, 'dist/bundle/kubefledged-controller'), launcherScript(), { mode: 0o755 });
}
