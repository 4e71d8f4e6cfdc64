// A function of one string, remembered: the planner asks about the same few strings on every pass
// (image references, Jobs' work annotations). The results must be immutable (callers share them) and
// depend on the input alone; at most `max` distinct inputs are kept, then the memory starts over.

export function memoByString<T>(fn: (input: string) => T, max = 20_000): (input: string) => T {
  const seen = new Map<string, T>();
  return (input) => {
    const known = seen.get(input);
    if (known !== undefined || seen.has(input)) return known as T;
    const out = fn(input);
    if (seen.size >= max) seen.clear();
    seen.set(input, out);
    return out;
  };
}

/**
 * The first instance seen of each string. JSON.parse and a structured clone make a new copy of every
 * string value they read, so the same container name, reason or image reference arrives once per pod,
 * Job and event: passed through here, the copies kept at once share one. At most `max` strings are
 * kept, then the memory starts over (a string not shared is only a copy more, never a wrong value).
 */
export function stringInterner(max = 20_000): (input: string) => string {
  return memoByString((s: string) => s, max);
}

/**
 * The first value seen of each key (`keyOf`: everything a reader can see of the value), made immutable by
 * `keep` when it is kept: equal objects read again and again (a container's status on every pod, an
 * image on every node) share that one copy. At most `max` are kept, then the memory starts over.
 */
export function sharedCopies<T>(keyOf: (value: T) => string, keep: (value: T) => T, max = 20_000): (value: T) => T {
  let kept = new Map<string, T>();
  return (value) => {
    const key = keyOf(value);
    const known = kept.get(key);
    if (known !== undefined) return known;
    if (kept.size >= max) kept = new Map();
    const copy = keep(value);
    kept.set(key, copy);
    return copy;
  };
}
