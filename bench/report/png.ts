// SVG -> PNG with rsvg-convert (Debian librsvg2-bin; bench/install-deps.sh installs it), no network.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export function svgToPng(svgFile: string, pngFile: string): void {
  try {
    execFileSync('rsvg-convert', ['-f', 'png', '-o', pngFile, svgFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('rsvg-convert not found: run bench/install-deps.sh (apt-get install librsvg2-bin; make bench does it)', { cause: err });
    throw new Error(`rsvg-convert ${svgFile}: ${e.stderr?.toString() ?? String(err)}`, { cause: err });
  }
  const sig = fs.readFileSync(pngFile).subarray(0, 8).toString('hex');
  if (sig !== '89504e470d0a1a0a') throw new Error(`${pngFile} is not a PNG (signature ${sig})`);
}

export function haveRsvgConvert(): boolean {
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
