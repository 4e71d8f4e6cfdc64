// The bench's chart as SVG (pure): seconds from create to Succeeded against nodes, one line a series,
// linear axes with round ticks, a legend. bench/report/png.ts turns it into the PNG.
export interface Series { name: string; color: string; points: { x: number; y: number }[]; dashed?: boolean }

export function niceStep(range: number, ticks = 5): number {
  const raw = range / Math.max(1, ticks);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(title: string, subtitle: string, xLabel: string, yLabel: string, series: Series[], width = 900, height = 560): string {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) throw new Error('chartSvg: no points to draw');
  const m = { left: 80, right: 250, top: 70, bottom: 60 };
  const xMax = Math.max(...pts.map((p) => p.x));
  const yMax = Math.max(...pts.map((p) => p.y));
  const xStep = niceStep(xMax);
  const yStep = niceStep(yMax);
  const xTop = Math.ceil(xMax / xStep) * xStep;
  const yTop = Math.ceil(yMax / yStep) * yStep || yStep;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const X = (x: number) => m.left + (x / xTop) * pw;
  const Y = (y: number) => m.top + ph - (y / yTop) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${m.left}" y="30" font-size="18" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${m.left}" y="52" font-size="12" fill="#555">${esc(subtitle)}</text>`);
  for (let x = 0; x <= xTop + 1e-9; x += xStep) {
    out.push(`<line x1="${X(x)}" y1="${m.top}" x2="${X(x)}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${X(x)}" y="${m.top + ph + 20}" font-size="12" text-anchor="middle">${+x.toFixed(6)}</text>`);
  }
  for (let y = 0; y <= yTop + 1e-9; y += yStep) {
    out.push(`<line x1="${m.left}" y1="${Y(y)}" x2="${m.left + pw}" y2="${Y(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${Y(y) + 4}" font-size="12" text-anchor="end">${+y.toFixed(6)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 15}" font-size="13" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(22 ${m.top + ph / 2}) rotate(-90)" font-size="13" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7 5"' : ''} points="${sorted.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of sorted) {
      out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="4" fill="${s.color}"/>`);
      out.push(`<text x="${(X(p.x) + 6).toFixed(1)}" y="${(Y(p.y) - 6).toFixed(1)}" font-size="11" fill="${s.color}">${p.y < 10 ? p.y.toFixed(1) : Math.round(p.y)}</text>`);
    }
    const ly = m.top + 10 + i * 24;
    const lx = m.left + pw + 20;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7 5"' : ''}/>`);
    out.push(`<text x="${lx + 36}" y="${ly + 4}" font-size="12">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
