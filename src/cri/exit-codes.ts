// Exit codes of kubefledged-cri-client. The controller reads them from the delete container's
// terminated state (with the one-line termination message) to tell a failed removal from a broken node.
export const CriClientExit = {
  /** Every image removed or already absent (or the command succeeded). */
  OK: 0,
  /** At least one image could not be handled: in use, pinned, invalid reference, runtime error. */
  FAILED: 1,
  /** Bad command line (unknown flag, missing image, bad endpoint syntax). */
  USAGE: 2,
  /** The CRI runtime could not be reached: no socket at the path, nobody listening, connect timeout. */
  UNREACHABLE: 3,
} as const;

export type CriClientExitCode = (typeof CriClientExit)[keyof typeof CriClientExit];
