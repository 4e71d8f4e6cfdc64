// runtime.v1.ImageService over a CriConnection: typed ImageStatus, ListImages, PullImage, RemoveImage.
import type { AuthConfig, CriImage, ImageStatusResponse, ListImagesResponse, PullImageResponse } from './cri-api-proto.js';
import type { CriConnection } from './cri-connection.js';

export interface CallTimeouts {
  /** Deadline of each ordinary call, ms. */
  callMs: number;
  /** Deadline of PullImage, ms (pulls take long). */
  pullMs: number;
}

export const DEFAULT_TIMEOUTS: CallTimeouts = { callMs: 10_000, pullMs: 10 * 60_000 };

/** What the removal logic needs from an image service (a fake in unit tests). */
export interface ImageServiceApi {
  imageStatus(image: string): Promise<CriImage | undefined>;
  removeImage(image: string): Promise<void>;
}

export class CriImageService implements ImageServiceApi {
  constructor(
    private readonly connection: CriConnection,
    private readonly timeouts: CallTimeouts = DEFAULT_TIMEOUTS,
  ) {}

  /** The image the runtime knows under this reference or ID, or undefined when it has none. */
  async imageStatus(image: string): Promise<CriImage | undefined> {
    const res = await this.imageStatusVerbose(image, false);
    return res.image ?? undefined;
  }

  /** ImageStatus with its `info` map (filled by the runtime when verbose). */
  imageStatusVerbose(image: string, verbose: boolean): Promise<ImageStatusResponse> {
    return this.connection.call<ImageStatusResponse>('ImageService', 'ImageStatus', { image: { image }, verbose }, this.timeouts.callMs);
  }

  /** All images, or those matching `filter` (a reference; the runtime decides what matches). */
  async listImages(filter?: string): Promise<CriImage[]> {
    const request = filter === undefined ? {} : { filter: { image: { image: filter } } };
    const res = await this.connection.call<ListImagesResponse>('ImageService', 'ListImages', request, this.timeouts.callMs);
    return res.images;
  }

  /** Pulls the image; resolves to the runtime's image reference (an image ID or digest). */
  async pullImage(image: string, auth?: AuthConfig): Promise<string> {
    const request = auth === undefined ? { image: { image } } : { image: { image }, auth };
    const res = await this.connection.call<PullImageResponse>('ImageService', 'PullImage', request, this.timeouts.pullMs);
    return res.imageRef;
  }

  /** Removes the image (by reference or ID). CRI runtimes answer success when it is already gone. */
  async removeImage(image: string): Promise<void> {
    await this.connection.call<object>('ImageService', 'RemoveImage', { image: { image } }, this.timeouts.callMs);
  }
}
