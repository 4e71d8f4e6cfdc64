// A watch of the bench that survives its end: the API server closes a watch whose client falls behind
// (under load, at 1,000 nodes) or when its timeout passes, cleanly, and client-node's Watch does not
// reconnect. On an end this lists (what happened meanwhile is handed to the handler as ADDED) and
// watches again from the list's resourceVersion, until stop().
import * as k8s from '@kubernetes/client-node';

export interface ResilientWatch { stop(): void }

export async function resilientWatch<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  onEvent: (phase: string, obj: T) => void,
  log?: (msg: string) => void,
): Promise<ResilientWatch> {
  let stopped = false;
  let current: AbortController | undefined;
  const watchFrom = async (resourceVersion?: string): Promise<void> => {
    if (stopped) return;
    current = await new k8s.Watch(kc).watch(path, resourceVersion ? { resourceVersion } : {}, (phase, obj: T) => onEvent(phase, obj), (err: unknown) => {
      if (stopped) return;
      if (err && !(err instanceof Error && err.name === 'AbortError')) log?.(`watch of ${path} ended: ${String(err)}; listing and watching again`);
      setTimeout(() => void relist(), 500);
    });
  };
  const relist = async (): Promise<void> => {
    if (stopped) return;
    try {
      const l = await list();
      for (const o of l.items) onEvent('ADDED', o);
      await watchFrom(l.metadata?.resourceVersion);
    } catch {
      setTimeout(() => void relist(), 1000);
    }
  };
  await watchFrom();
  return { stop: () => { stopped = true; current?.abort(); } };
}
