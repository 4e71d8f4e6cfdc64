// Command-line flags with the semantics of Go's `flag` package, so that the manifests, charts and
// habits written for the Go kube-fledged keep working: `-name`, `--name`, `-name=value`,
// `--name=value`, `-name value` (not for bools), bare bool `-name` means true, `--` ends the flags,
// parsing stops at the first argument that is not a flag, `-h`/`-help` ask for usage.
// Error texts are Go's ("flag provided but not defined: -x", "invalid value \"v\" for flag -x: why").
// Pure: no process access; entrypoints pass process.argv.slice(2) and print the help/errors themselves.

import { formatGoDuration, parseGoDuration } from './duration.js';

interface FlagBase<T> {
  /** One line (or a few) shown in --help. */
  description: string;
  default: T;
}

export interface StringFlag extends FlagBase<string> {
  type: 'string';
  /** Extra check of the value; return a reason to reject it. */
  validate?: (value: string) => string | undefined;
}
export interface BoolFlag extends FlagBase<boolean> {
  type: 'bool';
}
/** Go duration text; the parsed value is in milliseconds. */
export interface DurationFlag extends FlagBase<number> {
  type: 'duration';
  /** Inclusive lower bound in ms (e.g. 0 to forbid negative durations). */
  min?: number;
  /** When set, a value of exactly 0 is also accepted whatever `min` says (e.g. "0s disables"). */
  allowZero?: boolean;
}
/** Decimal integer. */
export interface IntFlag extends FlagBase<number> {
  type: 'int';
  min?: number;
  max?: number;
}
/**
 * One of a fixed set of words, matched case-insensitively after trimming and normalised to the
 * canonical spelling listed in `values`. `aliases` maps other accepted spellings (e.g. "0") to a value.
 */
export interface EnumFlag<V extends string = string> extends FlagBase<V> {
  type: 'enum';
  values: readonly V[];
  aliases?: Readonly<Record<string, V>>;
}
/** Repeatable string flag: every occurrence appends one value. */
export interface ListFlag extends FlagBase<readonly string[]> {
  type: 'list';
}

export type FlagDef = StringFlag | BoolFlag | DurationFlag | IntFlag | EnumFlag | ListFlag;

/** Flag definitions keyed by flag name as typed on the command line, without dashes. */
export type FlagDefs = Record<string, FlagDef>;

/** The parsed value type of one definition. */
export type FlagValue<D extends FlagDef> = D extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : D extends { type: 'list' }
    ? string[]
    : D extends { type: 'bool' }
      ? boolean
      : D extends { type: 'string' }
        ? string
        : number;

export type FlagValues<D extends FlagDefs> = { [K in keyof D]: FlagValue<D[K]> };

export interface ParsedFlags<D extends FlagDefs> {
  /** Every flag: the value given on the command line, or its default. */
  values: FlagValues<D>;
  /** Names of the flags given on the command line. */
  set: ReadonlySet<keyof D & string>;
  /** Arguments left after the flags (after `--` or the first non-flag argument), as Go's flag.Args(). */
  args: string[];
  /** `-h`, `-help` or `--help` was given (and not defined as a flag): print usage and exit 0. */
  help: boolean;
}

/** A command-line error; `flag` names the flag at fault (undefined for syntax errors not tied to one). */
export class FlagError extends Error {
  readonly flag: string | undefined;
  constructor(message: string, flag?: string) {
    super(message);
    this.name = 'FlagError';
    this.flag = flag;
  }
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool */
export function parseGoBool(raw: string): boolean | undefined {
  if (TRUE_WORDS.has(raw)) return true;
  if (FALSE_WORDS.has(raw)) return false;
  return undefined;
}

/** Converts the text of one occurrence into a value; throws a reason (without the flag name). */
function convert(def: FlagDef, raw: string): string | boolean | number {
  switch (def.type) {
    case 'string': {
      const why = def.validate?.(raw);
      if (why !== undefined) throw new Error(why);
      return raw;
    }
    case 'list':
      return raw;
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw new Error('parse error: use true or false');
      return b;
    }
    case 'int': {
      const t = raw.trim();
      if (!/^[+-]?[0-9]+$/.test(t)) throw new Error('parse error: not a decimal integer');
      const n = Number(t);
      if (!Number.isSafeInteger(n)) throw new Error('value out of range');
      if (def.min !== undefined && n < def.min) throw new Error(`must be >= ${def.min}`);
      if (def.max !== undefined && n > def.max) throw new Error(`must be <= ${def.max}`);
      return n;
    }
    case 'duration': {
      const ms = parseGoDuration(raw.trim());
      if (def.min !== undefined && ms < def.min && !(def.allowZero && ms === 0)) {
        throw new Error(`must be at least ${formatGoDuration(def.min)}${def.allowZero ? ' (or 0s)' : ''}`);
      }
      return ms;
    }
    case 'enum': {
      const t = raw.trim().toLowerCase();
      const canonical =
        def.values.find((v) => v.toLowerCase() === t) ??
        Object.entries(def.aliases ?? {}).find(([alias]) => alias.toLowerCase() === t)?.[1];
      if (canonical === undefined) throw new Error(`must be one of ${def.values.join(', ')}`);
      return canonical;
    }
  }
}

function invalidValue(def: FlagDef, name: string, raw: string, err: unknown): FlagError {
  const why = err instanceof Error ? err.message : String(err);
  const message =
    def.type === 'bool'
      ? `invalid boolean value ${JSON.stringify(raw)} for -${name}: ${why}`
      : `invalid value ${JSON.stringify(raw)} for flag -${name}: ${why}`;
  return new FlagError(message, name);
}

/**
 * Parses argv (without the program name) against the definitions. Throws FlagError on an unknown
 * flag, a missing argument or a bad value; every message names the flag.
 */
export function parseFlags<D extends FlagDefs>(defs: D, argv: readonly string[]): ParsedFlags<D> {
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(defs)) {
    values[name] = def.type === 'list' ? [...def.default] : def.default;
  }
  const set = new Set<string>();
  let help = false;
  let i = 0;
  while (i < argv.length) {
    const s = argv[i] as string;
    if (s.length < 2 || !s.startsWith('-')) break; // first non-flag argument ends the flags
    const dashes = s.startsWith('--') ? 2 : 1;
    i++;
    if (s === '--') break;
    const body = s.slice(dashes);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new FlagError(`bad flag syntax: ${s}`);
    }
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let raw: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);

    const def = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
    if (def === undefined) {
      if (name === 'help' || name === 'h') {
        help = true;
        continue;
      }
      throw new FlagError(`flag provided but not defined: -${name}`, name);
    }
    if (raw === undefined) {
      if (def.type === 'bool') {
        raw = 'true';
      } else if (i < argv.length) {
        raw = argv[i] as string;
        i++;
      } else {
        throw new FlagError(`flag needs an argument: -${name}`, name);
      }
    }
    let value: string | boolean | number;
    try {
      value = convert(def, raw);
    } catch (err) {
      throw invalidValue(def, name, raw, err);
    }
    if (def.type === 'list') {
      (values[name] as string[]).push(value as string);
    } else {
      values[name] = value;
    }
    set.add(name);
  }
  return { values: values as FlagValues<D>, set: set as ReadonlySet<keyof D & string>, args: argv.slice(i), help };
}

function typeName(def: FlagDef): string {
  switch (def.type) {
    case 'enum':
      return 'string';
    case 'list':
      return 'value';
    default:
      return def.type;
  }
}

function defaultText(def: FlagDef): string {
  switch (def.type) {
    case 'duration':
      return formatGoDuration(def.default);
    case 'string':
    case 'enum':
      return JSON.stringify(def.default);
    case 'list':
      return `[${def.default.join(',')}]`;
    default:
      return String(def.default);
  }
}

export interface UsageOptions {
  /** Printed as "Usage of <program>:" on the first line. */
  program?: string;
}

/**
 * Help text in the layout of Go's flag.PrintDefaults, sorted by name, listing every flag with its
 * type, description, accepted values and default (also when the default is empty or zero).
 */
export function usage(defs: FlagDefs, opts: UsageOptions = {}): string {
  const lines: string[] = [];
  if (opts.program !== undefined) lines.push(`Usage of ${opts.program}:`);
  for (const name of Object.keys(defs).sort()) {
    const def = defs[name] as FlagDef;
    lines.push(`  -${name} ${typeName(def)}`);
    const text = def.description.split('\n');
    if (def.type === 'enum') text.push(`One of: ${def.values.join(', ')} (case-insensitive).`);
    if (def.type === 'list') text.push('Repeat the flag to give several values.');
    const last = text.length - 1;
    text[last] = `${text[last]} (default ${defaultText(def)})`;
    for (const t of text) lines.push(`    \t${t}`);
  }
  return `${lines.join('\n')}\n`;
}
