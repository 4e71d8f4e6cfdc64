// The two runtime.v1.RuntimeService calls the CRI client needs: Version (which runtime answers) and
// ListContainers (is an image still used by a container before we remove it).
import type { CriContainer, ListContainersResponse, VersionResponse } from './cri-api-proto.js';
import type { CriConnection } from './cri-connection.js';

/** What the removal logic needs from a runtime service (a fake in unit tests). */
export interface RuntimeServiceApi {
  listContainers(): Promise<CriContainer[]>;
}

export class CriRuntimeService implements RuntimeServiceApi {
  constructor(
    private readonly connection: CriConnection,
    private readonly callTimeoutMs: number,
  ) {}

  version(): Promise<VersionResponse> {
    // "version" is the kubelet's CRI API version; runtimes ignore it beyond logging.
    return this.connection.call<VersionResponse>('RuntimeService', 'Version', { version: '0.1.0' }, this.callTimeoutMs);
  }

  /** Every container the runtime knows (any state, any sandbox). */
  async listContainers(): Promise<CriContainer[]> {
    const res = await this.connection.call<ListContainersResponse>('RuntimeService', 'ListContainers', {}, this.callTimeoutMs);
    return res.containers;
  }
}
