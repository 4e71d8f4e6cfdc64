// Ordering of names (node names, image references, reasons) for the status and the plan.
//
// String.prototype.localeCompare orders by ICU's collation: every call goes through ICU, and the first
// one maps ICU's collation data into the process (about 8 MiB of node's binary and heap, for the life of
// the process; the controller sorted node names with it on every pass). Names here are ASCII (DNS-1123
// node names, image references), for which code-unit order is the plain, stable order a reader expects.

/** Code-unit order: -1, 0 or 1. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
