// Go time.Duration text: parsing (time.ParseDuration) and printing (Duration.String()).
// Durations travel through the program as milliseconds (a JavaScript number, fractional below 1 ms);
// internally both directions compute in integer nanoseconds (BigInt) so that "1.1s" or "2h45m" are exact.

const NS_PER_MS = 1_000_000n;
const MAX_NS = (1n << 63n) - 1n; // Go's Duration is an int64 of nanoseconds

const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // U+00B5 MICRO SIGN
  ['\u03bcs', 1_000n], // U+03BC GREEK SMALL LETTER MU
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const EXAMPLES = 'use a number with a unit, e.g. 300ms, 30s, 5m, 1h30m (units: ns, us, ms, s, m, h)';

/** Go's wording ("time: missing unit in duration \"15\"") followed by how to write one. */
function invalid(original: string, why: string): Error {
  const what = why === '' ? 'invalid duration' : `${why} in duration`;
  return new Error(`time: ${what} ${JSON.stringify(original)}; ${EXAMPLES}`);
}

/**
 * Parses Go duration text ("300ms", "-1.5h", "2h45m", "0") into milliseconds.
 * Grammar of time.ParseDuration: an optional sign, then one or more decimal numbers each followed by a
 * unit; "0" alone needs no unit. Throws an Error naming the input on anything else ("15", "5 m", "abc").
 */
export function parseGoDuration(s: string): number {
  const original = s;
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid(original, '');

  let totalNs = 0n;
  while (rest !== '') {
    const num = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const intPart = num?.[1] ?? '';
    const fracPart = num?.[2];
    if (intPart === '' && (fracPart === undefined || fracPart === '')) {
      throw invalid(original, '');
    }
    rest = rest.slice(num?.[0].length ?? 0);

    const unitMatch = /^[^0-9.]+/.exec(rest);
    if (!unitMatch) throw invalid(original, 'missing unit');
    const unit = unitMatch[0];
    const unitNs = UNIT_NS.get(unit);
    if (unitNs === undefined) throw invalid(original, `unknown unit ${JSON.stringify(unit)}`);
    rest = rest.slice(unit.length);

    let ns = BigInt(intPart === '' ? '0' : intPart) * unitNs;
    if (fracPart) {
      // fraction * unit, truncated towards zero as Go does
      const scale = 10n ** BigInt(fracPart.length);
      ns += (BigInt(fracPart) * unitNs) / scale;
    }
    totalNs += ns;
    if (totalNs > MAX_NS + (negative ? 1n : 0n)) throw invalid(original, '');
  }
  const ms = Number(totalNs) / Number(NS_PER_MS);
  return negative ? -ms : ms;
}

/** Formats "<int>[.<frac>]<unit>" with trailing zeros of the fraction removed. */
function fixed(value: bigint, unitNs: bigint, unit: string): string {
  const whole = value / unitNs;
  const frac = value % unitNs;
  if (frac === 0n) return `${whole}${unit}`;
  const digits = unitNs.toString().length - 1;
  const fracText = frac.toString().padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${fracText}${unit}`;
}

/**
 * Go's Duration.String() for a duration given in milliseconds: 5 min -> "5m0s", 90 min -> "1h30m0s",
 * 0 -> "0s", 1500 -> "1.5s", 300 -> "300ms", 0.0015 -> "1.5µs". Sub-nanosecond parts are rounded.
 */
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`cannot format ${ms} as a duration: not a finite number`);
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  if (ns < 0n) ns = -ns;

  if (ns < 1_000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fixed(ns, 1_000n, '\u00b5s')}`;
  if (ns < 1_000_000_000n) return `${sign}${fixed(ns, 1_000_000n, 'ms')}`;

  const hours = ns / 3_600_000_000_000n;
  ns %= 3_600_000_000_000n;
  const minutes = ns / 60_000_000_000n;
  ns %= 60_000_000_000n;
  const seconds = fixed(ns, 1_000_000_000n, 's');
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}
