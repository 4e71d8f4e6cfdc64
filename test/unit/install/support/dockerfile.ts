// A small Dockerfile reader for the install tests: instructions with their flags, grouped by stage.
// It covers what the project's Dockerfile uses (ARG, FROM ... AS, WORKDIR, COPY [--from], RUN
// [--mount], ENV, USER, EXPOSE, ENTRYPOINT in exec form); anything else is reported, not guessed.

export interface Instruction {
  keyword: string;
  /** --name=value flags before the arguments */
  flags: Record<string, string>;
  /** the text after the keyword and flags */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  /** image or earlier stage name, after ARG substitution */
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Joins continuation lines, drops comments and blank lines (parser directives included). */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue;
      line += next;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read "${line.trim()}"`);
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2]!;
      rest = rest.slice(f[0].length);
    }
    out.push({ keyword: m[1]!.toUpperCase(), flags, args: rest.trim(), line: start + 1 });
  }
  return out;
}

/** ${NAME} / $NAME substitution from `vars`; unknown names stay as written. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = a ?? b!;
    return name in vars ? vars[name]! : whole;
  });
}

/** KEY=VALUE pairs of ARG/ENV (values may be double-quoted). */
export function assignments(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?/g;
  for (const m of args.matchAll(re)) {
    const raw = m[2] ?? '';
    out[m[1]!] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return out;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: FROM needs "<image> [AS <name>]"`);
      stages.push({ name: m[2] ?? `stage-${stages.length}`, from: substitute(m[1]!, globalArgs), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: only ARG may come before the first FROM`);
      // a global ARG's default may use the ARGs before it (ARG BUILD_IMAGE=node:${NODE_VERSION}-bookworm)
      for (const [k, v] of Object.entries(assignments(ins.args))) globalArgs[k] = substitute(v, globalArgs);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The exec-form ENTRYPOINT of a stage (inherited from the stage it starts from). */
export function entrypointOf(df: ParsedDockerfile, stageName: string): string[] | undefined {
  const stage = df.stages.find((s) => s.name === stageName);
  if (!stage) return undefined;
  const own = stage.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  if (own) return JSON.parse(own.args) as string[];
  return entrypointOf(df, stage.from);
}

/** The last USER of a stage or of the stages it starts from. */
export function userOf(df: ParsedDockerfile, stageName: string): string | undefined {
  const stage = df.stages.find((s) => s.name === stageName);
  if (!stage) return undefined;
  const own = stage.instructions.filter((i) => i.keyword === 'USER').at(-1);
  return own ? own.args : userOf(df, stage.from);
}
