// Draws bench/results/pod-start.png from bench/results/pod-start.json (written by bench/pod-start.ts):
// one bar per measure at its median, each run as a dot, min–max as a whisker. The chart is an SVG
// rendered to PNG by rsvg-convert (Debian package librsvg2-bin, installed when missing and root).
//   npx tsx bench/pod-start-chart.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../test/support/cluster.js';
import type { Summary } from './pod-start.js';

interface Result {
  date: string;
  runs: number;
  image: { sizeBytes: number };
  machine: { cpus: number; cpuModel: string; kubelet?: string; runtime?: string };
  podStartAbsent: Summary;
  podStartCached: Summary;
  imageCacheCreateToPresent: Summary;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(r: Result): string {
  const bars: [string, Summary, string][] = [
    ['pod start, image absent', r.podStartAbsent, '#d9534f'],
    ['pod start, image cached', r.podStartCached, '#5cb85c'],
    ['ImageCache → image on node', r.imageCacheCreateToPresent, '#5b8bd9'],
  ];
  const W = 760, H = 440, left = 70, right = 20, top = 60, bottom = 90;
  const maxV = Math.max(...bars.map(([, s]) => s.max)) * 1.15 || 1;
  const y = (v: number) => top + (H - top - bottom) * (1 - v / maxV);
  const slot = (W - left - right) / bars.length;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">Pod create → Running on a real node, ${(r.image.sizeBytes / 1e6).toFixed(0)} MB image (${r.runs} runs each)</text>`);
  out.push(`<text x="${W / 2}" y="46" text-anchor="middle" font-size="12" fill="#555">${esc(`${r.machine.cpus} × ${r.machine.cpuModel}; kubelet ${r.machine.kubelet ?? '?'}, ${r.machine.runtime ?? '?'}; ${r.date.slice(0, 10)}`)}</text>`);
  const step = maxV > 20 ? 5 : maxV > 8 ? 2 : maxV > 4 ? 1 : 0.5;
  for (let v = 0; v <= maxV; v += step) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12">${Number(v.toFixed(1))}</text>`);
  }
  out.push(`<text x="18" y="${(top + H - bottom) / 2}" font-size="13" transform="rotate(-90 18 ${(top + H - bottom) / 2})" text-anchor="middle">seconds</text>`);
  bars.forEach(([label, s, color], i) => {
    const cx = left + slot * (i + 0.5);
    const bw = slot * 0.45;
    out.push(`<rect x="${cx - bw / 2}" y="${y(s.median)}" width="${bw}" height="${y(0) - y(s.median)}" fill="${color}" opacity="0.75"/>`);
    out.push(`<line x1="${cx}" x2="${cx}" y1="${y(s.min)}" y2="${y(s.max)}" stroke="#333" stroke-width="1.5"/>`);
    for (const v of [s.min, s.max]) out.push(`<line x1="${cx - 10}" x2="${cx + 10}" y1="${y(v)}" y2="${y(v)}" stroke="#333" stroke-width="1.5"/>`);
    s.runs.forEach((v, k) => out.push(`<circle cx="${cx - bw / 2 + (bw * (k + 0.5)) / s.runs.length}" cy="${y(v)}" r="3.5" fill="#222"/>`));
    out.push(`<text x="${cx}" y="${y(s.median) - 8}" text-anchor="middle" font-size="13" font-weight="bold">${s.median.toFixed(2)} s</text>`);
    out.push(`<text x="${cx}" y="${H - bottom + 22}" text-anchor="middle" font-size="13">${esc(label)}</text>`);
    out.push(`<text x="${cx}" y="${H - bottom + 40}" text-anchor="middle" font-size="11" fill="#555">median; min–max ${s.min.toFixed(2)}–${s.max.toFixed(2)} s</text>`);
  });
  out.push(`<line x1="${left}" x2="${W - right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n');
}

function main(): void {
  const dir = path.join(ROOT, 'bench', 'results');
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'pod-start.json'), 'utf8')) as Result;
  const svg = path.join(dir, 'pod-start.svg');
  fs.writeFileSync(svg, chartSvg(result));
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'librsvg2-bin', 'fonts-dejavu-core'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  execFileSync('rsvg-convert', ['-f', 'png', '-o', path.join(dir, 'pod-start.png'), svg]);
  console.log(`wrote ${path.join(dir, 'pod-start.png')} (and pod-start.svg)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
