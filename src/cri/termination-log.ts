// The container termination message: one line that kubelet copies into
// pod.status.containerStatuses[].state.terminated.message, where the controller reads a delete
// container's result. Kubernetes keeps at most 4096 bytes of it per container.
import { access, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';

export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';
/** Kubernetes truncates a container's termination message to 4096 bytes. */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

export interface TerminationLogTarget {
  path: string;
  /** Given by flag or env: write it even when the file does not exist yet. */
  explicit: boolean;
}

/** Flag > env (KUBEFLEDGED_TERMINATION_LOG) > /dev/termination-log (written only if kubelet created it). */
export function resolveTerminationLog(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): TerminationLogTarget {
  if (flag !== undefined && flag !== '') return { path: flag, explicit: true };
  const fromEnv = env.KUBEFLEDGED_TERMINATION_LOG;
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, explicit: true };
  return { path: DEFAULT_TERMINATION_LOG, explicit: false };
}

/** One line (newlines folded to spaces) of at most `maxBytes` UTF-8 bytes, ending in "..." when cut. */
export function terminationLine(text: string, maxBytes: number = TERMINATION_MESSAGE_MAX_BYTES): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const ellipsis = '...';
  let cut = line.slice(0, maxBytes);
  while (Buffer.byteLength(cut) + ellipsis.length > maxBytes) cut = cut.slice(0, -1);
  return cut + ellipsis;
}

export type TerminationLogWrite = { written: true } | { written: false; reason: string };

/**
 * Writes the line (plus "\n"). Outside a pod the default path does not exist: nothing is written and
 * nothing fails. An explicit path that cannot be written is reported (the caller warns, the command's
 * own result and exit code stand).
 */
export async function writeTerminationLog(target: TerminationLogTarget, text: string): Promise<TerminationLogWrite> {
  if (!target.explicit) {
    try {
      await access(target.path, constants.W_OK);
    } catch {
      return { written: false, reason: `${target.path} does not exist (not running in a pod)` };
    }
  }
  try {
    await writeFile(target.path, `${terminationLine(text, TERMINATION_MESSAGE_MAX_BYTES - 1)}\n`, 'utf8');
    return { written: true };
  } catch (err) {
    return { written: false, reason: `cannot write ${target.path}: ${(err as Error).message}` };
  }
}
