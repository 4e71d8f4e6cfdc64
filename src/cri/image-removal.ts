// Idempotent removal of one image from a node through CRI, the heart of a purge:
//  1. resolve the reference with ImageStatus: first as given (the runtime applies its own short-name
//     rules), then fully qualified ("nginx" -> "docker.io/library/nginx:latest") for runtimes that do not
//     normalise; image IDs ("sha256:<hex>", short hex IDs) are passed through as they are;
//  2. absent -> success ("not present");
//  3. pinned by the runtime (e.g. the sandbox image) -> refused;
//  4. used by a container that has not exited (RuntimeService.ListContainers) -> refused: containerd would
//     delete the image under a running container, CRI-O refuses; here both behave the same way;
//  5. RemoveImage by image ID (every tag and digest of that image goes, as with `crictl rmi`); a runtime
//     error is reported with the runtime's own message; NOT_FOUND counts as already gone;
//  6. ImageStatus by ID again: still there -> failure.
// Transport failures (CriUnreachableError) are not caught: the caller reports them once for all images.
import * as grpc from '@grpc/grpc-js';
import { normalizeImageReference, parseImageReference } from '../images/image-reference.js';
import type { CriContainer, CriImage } from './cri-api-proto.js';
import { CriCallError, CriUnreachableError } from './cri-connection.js';
import type { ImageServiceApi } from './image-service.js';
import type { RuntimeServiceApi } from './runtime-service.js';

export type RemovalOutcome = 'removed' | 'not-present' | 'in-use' | 'pinned' | 'invalid-reference' | 'failed';

export interface ImageRemovalResult {
  /** The image as the caller gave it. */
  image: string;
  outcome: RemovalOutcome;
  /** True for "removed" and "not-present". */
  ok: boolean;
  /** The runtime's image ID, when the image was found. */
  imageId?: string;
  /** Tags the image had when found (all of them go with it). */
  repoTags?: string[];
  /** One line for people: "<image>: <what happened>". */
  message: string;
}

export interface ImageRemovalDeps {
  images: ImageServiceApi;
  /** Used for the in-use check; without it (or when it fails) the check is skipped with a warning. */
  runtime?: RuntimeServiceApi;
  warn?: (message: string) => void;
}

/** "sha256:<64 hex>", or bare hex of 12..64 digits as `crictl images` prints IDs. */
const IMAGE_ID = /^(?:sha256:[a-f0-9]{64}|[a-f0-9]{12,64})$/;

export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

/** The names ImageStatus is asked for, in order (deduplicated). Invalid references give an error. */
export function lookupNames(image: string): { ok: true; names: string[] } | { ok: false; error: string } {
  if (isImageId(image)) return { ok: true, names: [image] };
  const parsed = parseImageReference(image);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const normalized = normalizeImageReference(image);
  const names = [image];
  if (normalized !== undefined && normalized !== image) names.push(normalized);
  return { ok: true, names };
}

/** Containers (not exited) whose image is this image, by ID, tag or digest. */
export function containersUsingImage(image: CriImage, containers: readonly CriContainer[]): CriContainer[] {
  const names = new Set<string>([image.id, ...image.repoTags, ...image.repoDigests]);
  return containers.filter((c) => {
    if (c.state === 'CONTAINER_EXITED') return false;
    return [c.imageId, c.imageRef, c.image?.image].some((ref) => ref !== undefined && ref !== '' && names.has(ref));
  });
}

function describeContainers(containers: readonly CriContainer[]): string {
  const shown = containers.slice(0, 3).map((c) => {
    const name = c.metadata?.name || '(unnamed)';
    const state = c.state.replace(/^CONTAINER_/, '').toLowerCase();
    const sandbox = c.labels['io.kubernetes.pod.namespace'] && c.labels['io.kubernetes.pod.name']
      ? ` in pod ${c.labels['io.kubernetes.pod.namespace']}/${c.labels['io.kubernetes.pod.name']}`
      : '';
    return `${name} (${c.id.slice(0, 13)}, ${state}${sandbox})`;
  });
  const more = containers.length > 3 ? ` and ${containers.length - 3} more` : '';
  return `${containers.length === 1 ? 'container' : 'containers'} ${shown.join(', ')}${more}`;
}

function describeCallError(err: unknown): string {
  if (err instanceof CriCallError) return `${err.method} failed: ${err.codeName}: ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}

function tagsSuffix(image: CriImage): string {
  return image.repoTags.length > 0 ? `, tags ${image.repoTags.join(', ')}` : '';
}

export async function removeImage(image: string, deps: ImageRemovalDeps): Promise<ImageRemovalResult> {
  const lookup = lookupNames(image);
  if (!lookup.ok) {
    return { image, outcome: 'invalid-reference', ok: false, message: `invalid image reference ${JSON.stringify(image)}: ${lookup.error}` };
  }

  // 1. resolve
  let found: CriImage | undefined;
  for (const name of lookup.names) {
    try {
      found = await deps.images.imageStatus(name);
    } catch (err) {
      if (err instanceof CriUnreachableError) throw err;
      return { image, outcome: 'failed', ok: false, message: `${image}: ${describeCallError(err)}` };
    }
    if (found) break;
  }

  // 2. absent
  if (!found) {
    const asked = lookup.names.length > 1 ? ` (looked up as ${lookup.names.join(' and ')})` : '';
    return { image, outcome: 'not-present', ok: true, message: `${image}: not present on this node, nothing to remove${asked}` };
  }
  const base = { image, imageId: found.id, repoTags: [...found.repoTags] };

  // 3. pinned
  if (found.pinned) {
    return {
      ...base,
      outcome: 'pinned',
      ok: false,
      message: `${image}: image ${found.id} is pinned by the runtime (for example the pod sandbox image); not removed`,
    };
  }

  // 4. in use
  if (deps.runtime) {
    try {
      const users = containersUsingImage(found, await deps.runtime.listContainers());
      if (users.length > 0) {
        return {
          ...base,
          outcome: 'in-use',
          ok: false,
          message: `${image}: image ${found.id} is in use by ${describeContainers(users)}; not removed`,
        };
      }
    } catch (err) {
      deps.warn?.(`${image}: could not list containers to check whether the image is in use (${describeCallError(err)}); removing it anyway`);
    }
  }

  // 5. remove by ID
  try {
    await deps.images.removeImage(found.id);
  } catch (err) {
    if (err instanceof CriUnreachableError) throw err;
    if (err instanceof CriCallError && err.code === grpc.status.NOT_FOUND) {
      return { ...base, outcome: 'not-present', ok: true, message: `${image}: not present on this node (removed meanwhile), nothing to remove` };
    }
    return { ...base, outcome: 'failed', ok: false, message: `${image}: removing image ${found.id}: ${describeCallError(err)}` };
  }

  // 6. verify
  let still: CriImage | undefined;
  try {
    still = await deps.images.imageStatus(found.id);
  } catch (err) {
    if (err instanceof CriUnreachableError) throw err;
    deps.warn?.(`${image}: could not confirm the removal (${describeCallError(err)})`);
  }
  if (still) {
    return {
      ...base,
      outcome: 'failed',
      ok: false,
      message: `${image}: the runtime accepted RemoveImage but still lists image ${found.id}${tagsSuffix(still)}`,
    };
  }
  return { ...base, outcome: 'removed', ok: true, message: `${image}: removed image ${found.id}${tagsSuffix(found)}` };
}

/** Removes each image in turn; one image's failure does not stop the others. */
export async function removeImages(images: readonly string[], deps: ImageRemovalDeps): Promise<ImageRemovalResult[]> {
  const results: ImageRemovalResult[] = [];
  for (const image of images) results.push(await removeImage(image, deps));
  return results;
}
