// client-node informers (list + watch from a resourceVersion, relist on 410) with a restart on error:
// client-node stops an informer when its watch fails; this restarts it with backoff (1 s .. 30 s).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../operator/logger.js';

export interface RestartingInformer<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first list has completed. */
  synced(): boolean;
}

export function restartingInformer<T extends k8s.KubernetesObject>(opts: {
  kc: k8s.KubeConfig;
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  onChange: (verb: 'add' | 'update' | 'delete', obj: T) => void;
  log: Logger;
  resource: string;
  onRestart?: () => void;
}): RestartingInformer<T> {
  const informer = k8s.makeInformer<T>(opts.kc, opts.path, opts.list, opts.labelSelector);
  let stopped = false;
  let hasSynced = false;
  let delay = 1000;
  let timer: NodeJS.Timeout | undefined;
  informer.on('add', (o) => opts.onChange('add', o));
  informer.on('update', (o) => opts.onChange('update', o));
  informer.on('delete', (o) => opts.onChange('delete', o));
  informer.on('connect', () => { delay = 1000; });
  informer.on('error', (err) => {
    if (stopped) return;
    opts.log.warn(`watch on ${opts.resource} failed; restarting in ${delay} ms`, { error: String(err?.message ?? err) });
    opts.onRestart?.();
    timer = setTimeout(() => {
      informer.start().catch(() => undefined);
    }, delay);
    delay = Math.min(delay * 2, 30_000);
  });
  return {
    list: () => informer.list(),
    synced: () => hasSynced,
    async start() {
      for (;;) {
        try {
          await informer.start();
          hasSynced = true;
          return;
        } catch (err) {
          if (stopped) return;
          opts.log.warn(`initial list of ${opts.resource} failed; retrying in ${delay} ms`, { error: String(err) });
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 30_000);
        }
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await informer.stop();
    },
  };
}
