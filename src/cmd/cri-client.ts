#!/usr/bin/env node
// kubefledged-cri-client: removes (and pulls, lists, inspects) images through the node's CRI socket.
// Runs in kube-fledged's delete Jobs as `kubefledged-cri-client rmi --runtime-endpoint unix://<sock> -- <image>`.
import { runCriClient } from '../cri/cri-client-cli.js';

const code = await runCriClient(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = code;
