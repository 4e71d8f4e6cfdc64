// Environment variables of an entrypoint: defaults, reading, and their section of --help.

export interface EnvVarDef {
  default: string;
  description: string;
}
export type EnvVarDefs = Record<string, EnvVarDef>;

/** The variable's trimmed value, or its default when unset or blank. */
export function readEnvVar<D extends EnvVarDefs>(env: Record<string, string | undefined>, defs: D, name: keyof D & string): string {
  const value = env[name]?.trim();
  return value ? value : (defs[name] as EnvVarDef).default;
}

/** "Environment variables:" and one entry per variable, in the layout of flag-parser's usage(). */
export function envUsage(defs: EnvVarDefs): string {
  const lines = Object.entries(defs).map(([name, e]) => `  ${name}\n    \t${e.description} (default ${JSON.stringify(e.default)})`);
  return `Environment variables:\n${lines.join('\n')}\n`;
}
