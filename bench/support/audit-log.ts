// Requests of one client, read from kube-apiserver's audit log (bench/audit-policy.yaml logs every
// request of a ServiceAccount outside kube-system, one JSON event a line, stages ResponseStarted and
// ResponseComplete). Counted once per auditID, with the code of its last stage.
import * as fs from 'node:fs';

export interface AuditRequest {
  auditID: string;
  user: string;
  userAgent: string;
  verb: string;
  /** resource[/subresource], e.g. "jobs", "imagecaches/status"; "-" for non-resource URLs. */
  resource: string;
  code: number;
  /** requestReceivedTimestamp in ms since the epoch. */
  at: number;
}

interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb?: string;
  user?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string };
  requestURI?: string;
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
}

/** Parses audit log lines (JSON), one request per auditID; lines that are not audit events are skipped. */
export function parseAuditLines(text: string): AuditRequest[] {
  const byId = new Map<string, AuditRequest>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // a line cut by a concurrent write: the next read starts at a line boundary
    }
    if (!e.auditID || !e.verb) continue;
    const resource = e.objectRef?.resource
      ? (e.objectRef.subresource ? `${e.objectRef.resource}/${e.objectRef.subresource}` : e.objectRef.resource)
      : '-';
    const prev = byId.get(e.auditID);
    const code = e.responseStatus?.code ?? prev?.code ?? 0;
    byId.set(e.auditID, {
      auditID: e.auditID,
      user: e.user?.username ?? '',
      userAgent: e.userAgent ?? '',
      verb: e.verb,
      resource,
      code,
      at: e.requestReceivedTimestamp ? Date.parse(e.requestReceivedTimestamp) : 0,
    });
  }
  return [...byId.values()];
}

export const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** "verb resource code" -> count, sorted by count (descending) then key. */
export function countRequests(reqs: readonly AuditRequest[], key: (r: AuditRequest) => string = (r) => `${r.verb} ${r.resource}`): [string, number][] {
  const m = new Map<string, number>();
  for (const r of reqs) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The text a log file gained after `from` (its size when a phase began); '' when it gained none. */
export function readFrom(file: string, from: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= from) return '';
    const buf = Buffer.alloc(size - from);
    fs.readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the audit log from a byte offset on: marks taken before a phase, requests read after it. */
export class AuditLog {
  constructor(readonly file: string) {
    if (!fs.existsSync(file)) throw new Error(`audit log ${file} does not exist: start the cluster with bench/cluster.sh up (make bench does)`);
  }

  mark(): number {
    return fs.statSync(this.file).size;
  }

  /** Requests of `user` logged after `from` (a mark), received in [sinceMs, untilMs]. */
  read(from: number, user: string, sinceMs = 0, untilMs = Number.MAX_SAFE_INTEGER): AuditRequest[] {
    return parseAuditLines(readFrom(this.file, from)).filter((r) => r.user === user && r.at >= sinceMs && r.at <= untilMs);
  }
}
