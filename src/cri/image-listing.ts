// How `kubefledged-cri-client images` prints images: crictl's table (IMAGE, TAG, IMAGE ID, SIZE).
// Pure formatting.
import type { CriImage } from './cri-api-proto.js';
import { compareText } from '../util/compare.js';

export interface ImageRow {
  image: string;
  tag: string;
  imageId: string;
  size: string;
}

/** "sha256:0123456789abcdef..." -> "0123456789abc" (13 hex digits, as crictl prints). */
export function shortImageId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return hex.slice(0, 13);
}

/** Decimal units with three significant digits, as crictl (docker/go-units HumanSize): "1.98MB". */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))}${units[i]}`;
}

/** "registry:5000/team/app:1.0" -> ["registry:5000/team/app", "1.0"]; digests -> [repo, "<none>"]. */
export function splitRepoTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), '<none>'];
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, '<none>'];
}

/** One row per tag; an image without tags gets one row per repository it has a digest in. */
export function imageRows(images: readonly CriImage[]): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const imageId = shortImageId(img.id);
    const size = humanSize(img.size);
    const refs = img.repoTags.length > 0 ? img.repoTags : [...new Set(img.repoDigests.map((d) => splitRepoTag(d)[0]))];
    if (refs.length === 0) {
      rows.push({ image: '<none>', tag: '<none>', imageId, size });
      continue;
    }
    for (const ref of refs) {
      const [image, tag] = img.repoTags.length > 0 ? splitRepoTag(ref) : [ref, '<none>'];
      rows.push({ image, tag, imageId, size });
    }
  }
  return rows.sort((a, b) => compareText(a.image, b.image) || compareText(a.tag, b.tag));
}

export function formatImageTable(images: readonly CriImage[]): string {
  const header: ImageRow = { image: 'IMAGE', tag: 'TAG', imageId: 'IMAGE ID', size: 'SIZE' };
  const rows = [header, ...imageRows(images)];
  const width = (k: keyof ImageRow) => Math.max(...rows.map((r) => r[k].length));
  const wi = width('image');
  const wt = width('tag');
  const wd = width('imageId');
  return rows.map((r) => `${r.image.padEnd(wi)}   ${r.tag.padEnd(wt)}   ${r.imageId.padEnd(wd)}   ${r.size}`).join('\n');
}
