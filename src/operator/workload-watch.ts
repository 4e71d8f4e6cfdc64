// The workload watch (--workload-images): Deployments, StatefulSets, DaemonSets and CronJobs, cluster-wide,
// read only. A change in a namespace re-plans the caches of that namespace that follow workloads
// (cacheSpec[].workloadSelector); planning/workload-images.ts decides what they cache.
import * as k8s from '@kubernetes/client-node';
import { restartingInformer, type RestartingInformer } from '../kube/informers.js';
import { workloadImages, type WorkloadImages } from '../planning/workload-images.js';
import type { Logger } from './logger.js';

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob';

export class WorkloadWatch {
  private readonly informers: [Kind, RestartingInformer<k8s.KubernetesObject>][] = [];

  constructor(kc: k8s.KubeConfig, log: Logger, onChange: (namespace: string) => void) {
    // each informer lists its path in pages (kube/informers.ts)
    const add = (kind: Kind, path: string) => {
      this.informers.push([kind, restartingInformer<k8s.KubernetesObject>({
        kc, path, log, resource: path.split('/').pop() ?? kind,
        onChange: (_verb, obj) => onChange(obj.metadata?.namespace ?? ''),
      })]);
    };
    add('Deployment', '/apis/apps/v1/deployments');
    add('StatefulSet', '/apis/apps/v1/statefulsets');
    add('DaemonSet', '/apis/apps/v1/daemonsets');
    add('CronJob', '/apis/batch/v1/cronjobs');
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map(([, i]) => i.start()));
  }
  async stop(): Promise<void> {
    await Promise.all(this.informers.map(([, i]) => i.stop()));
  }
  synced(): boolean {
    return this.informers.every(([, i]) => i.synced());
  }

  /** Every workload, reduced to what the planner reads. */
  list(): WorkloadImages[] {
    return this.informers.flatMap(([kind, i]) => i.list().map((o) => workloadImages(kind, o as never)));
  }
}
