// Replays the project's Dockerfile without Docker: every stage gets a directory as its root file system,
// WORKDIR/COPY/ENV map onto it, RUN runs the same shell commands there (with the host's Node 20 and npm),
// and the ENTRYPOINT of each target can then be started. The Dockerfile is the only script: nothing here
// knows which commands it contains. Instructions it cannot replay fail loudly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assignments, substitute, type ParsedDockerfile } from '../../../unit/install/support/dockerfile.js';

export interface ReplayedStage {
  name: string;
  /** directory standing for the stage's "/" */
  root: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  exposed: string[];
}

export interface ReplayOptions {
  /** the build context (the repository) */
  context: string;
  /** where the stage roots are made */
  workDir: string;
  /** extra environment for RUN (e.g. npm settings) */
  runEnv?: Record<string, string>;
  log?: (line: string) => void;
}

function inImage(root: string, p: string): string {
  return path.join(root, p);
}

function copyInto(src: string, dest: string, destIsDir: boolean): void {
  const stat = fs.statSync(src);
  if (stat.isDirectory()) {
    fs.mkdirSync(dest, { recursive: true });
    fs.cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  } else {
    const target = destIsDir ? path.join(dest, path.basename(src)) : dest;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(src, target);
  }
}

export function replayDockerfile(df: ParsedDockerfile, opts: ReplayOptions): Map<string, ReplayedStage> {
  const stages = new Map<string, ReplayedStage>();
  const log = opts.log ?? (() => undefined);
  for (const stage of df.stages) {
    const base = stages.get(stage.from);
    const changesFiles = stage.instructions.some((i) => ['RUN', 'COPY', 'WORKDIR'].includes(i.keyword));
    let root: string;
    if (base && !changesFiles) {
      root = base.root;
    } else {
      root = path.join(opts.workDir, stage.name);
      fs.mkdirSync(root, { recursive: true });
      if (base) fs.cpSync(base.root, root, { recursive: true, verbatimSymlinks: true });
    }
    const state: ReplayedStage = { name: stage.name, root, env: { ...(base?.env ?? {}) }, exposed: [...(base?.exposed ?? [])] };
    if (base?.user) state.user = base.user;
    if (base?.entrypoint) state.entrypoint = base.entrypoint;
    const args: Record<string, string> = {};
    let cwd = '/';
    for (const ins of stage.instructions) {
      const vars = { ...df.globalArgs, ...args, ...state.env };
      const text = substitute(ins.args, vars);
      const where = `Dockerfile line ${ins.line} (stage ${stage.name})`;
      switch (ins.keyword) {
        case 'ARG':
          for (const [k, v] of Object.entries(assignments(ins.args))) args[k] = v !== '' ? v : (df.globalArgs[k] ?? '');
          break;
        case 'ENV':
          Object.assign(state.env, assignments(text));
          break;
        case 'WORKDIR':
          cwd = path.posix.resolve(cwd, text);
          fs.mkdirSync(inImage(root, cwd), { recursive: true });
          break;
        case 'COPY': {
          if (text.startsWith('[')) throw new Error(`${where}: COPY in JSON form is not replayed`);
          const parts = text.split(/\s+/);
          const destText = parts.pop()!;
          const dest = inImage(root, path.posix.resolve(cwd, destText));
          const destIsDir = destText.endsWith('/') || parts.length > 1;
          for (const src of parts) {
            let from: string;
            if (ins.flags.from !== undefined) {
              const source = stages.get(ins.flags.from);
              if (!source) throw new Error(`${where}: COPY --from=${ins.flags.from} names no earlier stage`);
              from = inImage(source.root, path.posix.resolve('/', src));
            } else {
              if (path.isAbsolute(src) || src.includes('..')) throw new Error(`${where}: COPY source ${src} leaves the build context`);
              from = path.join(opts.context, src);
            }
            if (!fs.existsSync(from)) throw new Error(`${where}: COPY source ${src} does not exist`);
            copyInto(from, dest, destIsDir);
          }
          break;
        }
        case 'RUN': {
          if (text.startsWith('[')) throw new Error(`${where}: RUN in JSON form is not replayed`);
          log(`RUN (${stage.name}) ${text}`);
          const r = spawnSync('sh', ['-c', text], {
            cwd: inImage(root, cwd),
            env: { ...process.env, ...opts.runEnv, ...state.env },
            encoding: 'utf8',
            maxBuffer: 64 << 20,
          });
          if (r.status !== 0) throw new Error(`${where}: RUN failed (exit ${r.status}): ${text}\n${r.stdout}\n${r.stderr}`);
          break;
        }
        case 'USER':
          state.user = text;
          break;
        case 'EXPOSE':
          state.exposed.push(...text.split(/\s+/));
          break;
        case 'ENTRYPOINT':
          state.entrypoint = JSON.parse(text) as string[];
          break;
        case 'LABEL':
          break;
        default:
          throw new Error(`${where}: ${ins.keyword} is not replayed; extend test/e2e/install/support/dockerfile-replay.ts`);
      }
    }
    stages.set(stage.name, state);
  }
  return stages;
}

/** A .dockerignore pattern as a regular expression over context-relative paths (Go filepath.Match plus **). */
function patternRegex(pattern: string): RegExp {
  const clean = path.posix.normalize(pattern).replace(/^\/+|\/+$/g, '');
  let re = '';
  for (let i = 0; i < clean.length; i++) {
    const ch = clean[i]!;
    if (ch === '*' && clean[i + 1] === '*') {
      re += '.*';
      i++;
      if (clean[i + 1] === '/') i++;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether .dockerignore lets `rel` into the build context (last matching rule wins; parents count). */
export function dockerignoreIncludes(rules: string[], rel: string): boolean {
  let included = true;
  const parts = rel.split('/');
  for (const raw of rules) {
    const negate = raw.startsWith('!');
    const re = patternRegex(negate ? raw.slice(1) : raw);
    const matches = parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
    if (matches) included = negate;
  }
  return included;
}

/** Copies the build context that `docker build` would send: the repository filtered by .dockerignore. */
export function buildContext(repo: string, into: string): string[] {
  const rules = fs
    .readFileSync(path.join(repo, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const reincluded = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/+$/, '').split('/')[0]!);
  const copied: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(repo, rel);
    const stat = fs.lstatSync(abs);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(abs)) walk(rel ? `${rel}/${entry}` : entry);
    } else if (stat.isFile() && dockerignoreIncludes(rules, rel)) {
      fs.mkdirSync(path.dirname(path.join(into, rel)), { recursive: true });
      fs.copyFileSync(abs, path.join(into, rel));
      copied.push(rel);
    }
  };
  for (const top of fs.readdirSync(repo)) {
    if (dockerignoreIncludes(rules, top) || reincluded.includes(top)) walk(top);
  }
  return copied.sort();
}
