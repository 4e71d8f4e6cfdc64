// glog's flags, accepted by every entrypoint so the manifests and charts written for the Go
// kube-fledged keep working, and the winston log level they amount to.
import type { FlagDefs } from './flag-parser.js';

export type GlogSeverity = 'INFO' | 'WARNING' | 'ERROR' | 'FATAL';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const SEVERITIES: readonly GlogSeverity[] = ['INFO', 'WARNING', 'ERROR', 'FATAL'];

/** Spread into an entrypoint's flag definitions: `{ ...OWN_FLAGS, ...GLOG_FLAGS }`. */
export const GLOG_FLAGS = {
  stderrthreshold: {
    type: 'enum',
    values: SEVERITIES,
    aliases: { '0': 'INFO', '1': 'WARNING', '2': 'ERROR', '3': 'FATAL' },
    default: 'ERROR',
    description: 'Logs at or above this severity are written (INFO, WARNING, ERROR, FATAL or 0-3)',
  },
  logtostderr: {
    type: 'bool',
    default: false,
    description: 'glog compatibility: write logs of every severity (as -stderrthreshold=INFO); logs always go to stderr',
  },
  alsologtostderr: {
    type: 'bool',
    default: false,
    description: 'glog compatibility; accepted and ignored (logs always go to stderr)',
  },
  v: {
    type: 'int',
    default: 0,
    min: 0,
    description: 'Log verbosity; 4 or more enables debug logs',
  },
  vmodule: { type: 'string', default: '', description: 'glog compatibility; accepted and ignored' },
  log_dir: { type: 'string', default: '', description: 'glog compatibility; accepted and ignored (no log files are written)' },
  log_backtrace_at: { type: 'string', default: '', description: 'glog compatibility; accepted and ignored' },
} as const satisfies FlagDefs;

/**
 * The winston level of the glog flags: -v >= 4 gives 'debug'; else --logtostderr gives 'info' (glog
 * then writes every severity to stderr); else --stderrthreshold (INFO -> info, WARNING -> warn,
 * ERROR and FATAL -> error).
 */
export function glogLogLevel(v: { v: number; logtostderr: boolean; stderrthreshold: GlogSeverity }): LogLevel {
  if (v.v >= 4) return 'debug';
  if (v.logtostderr) return 'info';
  switch (v.stderrthreshold) {
    case 'INFO':
      return 'info';
    case 'WARNING':
      return 'warn';
    default:
      return 'error';
  }
}
