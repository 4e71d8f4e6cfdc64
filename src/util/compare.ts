// Ordering of names (node names, image references, reasons) for the status and the plan.
//
// String.prototype.localeCompare orders by ICU's collation, and every call goes through ICU: the planner
// sorted each pass's nodes with it. Names here are ASCII (DNS-1123 node names, image references), for
// which code-unit order is the plain, stable order a reader expects. (A bare node process that calls
// localeCompare once maps about 8 MiB more; the controller's RSS did not change with this, 101.4 against
// 101.9 MiB at the 200-node peak: other code touches ICU too.)

/** Code-unit order: -1, 0 or 1. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
