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
