// One line of a watch answer (`{"type":...,"object":{...}}`), parsed without the parts nobody reads
// (pure). A pull Job's pod template and a pod's spec are a container per image (29 KB at 50 images),
// and their managedFields as large again: of a 65 KB pod event the controller reads the 10 KB of its
// status and a few fields of its metadata (informer-transforms.ts). JSON.parse of the whole line builds
// all of it, for the transform to drop at once: at 1,000 nodes x 50 images a create brings 600 MB of
// such lines, and parsing them and collecting their garbage was most of the controller's CPU
// (docs/benchmark.md "The controller's CPU at 1,000 x 50"). Here the line is walked as text, the values
// to drop are replaced by null (their text skipped, never parsed: strings are jumped over with indexOf),
// and only what is left is given to JSON.parse.

/** Paths to replace by null: a key mapped to true is dropped, to a nested object is walked into. */
export interface DropTree { [key: string]: true | DropTree }

/** What the controller's Jobs and pods never need: their spec and every object's managedFields. */
export const DROP_SPEC_AND_MANAGED_FIELDS: DropTree = { object: { metadata: { managedFields: true }, spec: true } };
/** Nodes: the spec is read (taints, unschedulable), managedFields are not. */
export const DROP_MANAGED_FIELDS: DropTree = { object: { metadata: { managedFields: true } } };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

class BadJson extends Error {}

function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** s[i] is the opening quote: the index just past the closing one. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) throw new BadJson();
    let slashes = 0;
    for (let b = q - 1; s.charCodeAt(b) === BACKSLASH; b--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The index just past the JSON value that starts at i (no whitespace before it). */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const ch = s.charCodeAt(j);
      if (ch === QUOTE) j = skipString(s, j) - 1;
      else if (ch === LBRACE || ch === LBRACKET) depth++;
      else if (ch === RBRACE || ch === RBRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    throw new BadJson();
  }
  // a number, true, false or null
  let j = i;
  for (; j < s.length; j++) {
    const ch = s.charCodeAt(j);
    if (ch === COMMA || ch === RBRACE || ch === RBRACKET || ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) break;
  }
  if (j === i) throw new BadJson();
  return j;
}

/**
 * Walks the object at s[i] ('{'), pushing to cuts the [start, end) of each value to drop. Returns the
 * index just past the object.
 */
function walkObject(s: string, i: number, drop: DropTree, cuts: number[]): number {
  let j = skipWs(s, i + 1);
  if (s.charCodeAt(j) === RBRACE) return j + 1;
  for (;;) {
    if (s.charCodeAt(j) !== QUOTE) throw new BadJson();
    const keyEnd = skipString(s, j);
    const raw = s.slice(j + 1, keyEnd - 1);
    const key = raw.includes('\\') ? (JSON.parse(s.slice(j, keyEnd)) as string) : raw;
    j = skipWs(s, keyEnd);
    if (s.charCodeAt(j) !== COLON) throw new BadJson();
    j = skipWs(s, j + 1);
    const rule = Object.prototype.hasOwnProperty.call(drop, key) ? drop[key] : undefined;
    let end: number;
    if (rule === true) {
      end = skipValue(s, j);
      cuts.push(j, end);
    } else if (rule !== undefined && s.charCodeAt(j) === LBRACE) {
      end = walkObject(s, j, rule, cuts);
    } else {
      end = skipValue(s, j);
    }
    j = skipWs(s, end);
    const c = s.charCodeAt(j);
    if (c === RBRACE) return j + 1;
    if (c !== COMMA) throw new BadJson();
    j = skipWs(s, j + 1);
  }
}

/**
 * JSON.parse(line) with the values at the paths of `drop` replaced by null. A line that is not one
 * JSON object (or whose text cannot be walked) is handed to JSON.parse whole, which says what is wrong.
 * The text of a dropped value is only walked to its end, not checked (a bad number inside it passes):
 * the API server writes valid JSON, and nothing of that value is used.
 */
export function parseWatchLine(line: string, drop: DropTree): unknown {
  const cuts: number[] = [];
  try {
    const start = skipWs(line, 0);
    if (line.charCodeAt(start) !== LBRACE) return JSON.parse(line);
    const end = walkObject(line, start, drop, cuts);
    if (skipWs(line, end) !== line.length) return JSON.parse(line);
  } catch (err) {
    if (err instanceof BadJson) return JSON.parse(line);
    throw err;
  }
  if (cuts.length === 0) return JSON.parse(line);
  let text = '';
  let from = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    text += line.slice(from, cuts[k]!) + 'null';
    from = cuts[k + 1]!;
  }
  text += line.slice(from);
  return JSON.parse(text);
}
