/**
 * Throughput-against-latency charts of `npm run bench` rows, as standalone SVG (no
 * dependencies): one line per series, x = operations per second (linear), y = latency in ms
 * (log scale), one point per load level, labelled with it. `node dist/bench/chart.js
 * rows.jsonl` redraws the charts from the `--json` output of a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Row } from './limits.js';

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  /** Dashed (used for p99 lines). */
  readonly dashed?: boolean;
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number; readonly label: string }>;
}

const W = 760;
const H = 440;
const M = { left: 70, right: 180, top: 40, bottom: 50 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Renders `series` as an SVG document. */
export function renderChart(title: string, xLabel: string, series: readonly Series[]): string {
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
  const xMax = niceMax(Math.max(1, ...pts.map((p) => p.x)) * 1.05);
  const yMinLog = Math.floor(Math.log10(Math.min(...pts.map((p) => p.y), 1)));
  const yMaxLog = Math.ceil(Math.log10(Math.max(...pts.map((p) => p.y), 10)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + (x / xMax) * pw;
  const sy = (y: number): number => M.top + ph - ((Math.log10(y) - yMinLog) / (yMaxLog - yMinLog)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const x = (xMax / 5) * i;
    out.push(`<line x1="${sx(x)}" y1="${M.top}" x2="${sx(x)}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${sx(x)}" y="${M.top + ph + 16}" text-anchor="middle">${Math.round(x).toLocaleString('en-US')}</text>`);
  }
  for (let e = yMinLog; e <= yMaxLog; e++) {
    const y = 10 ** e;
    out.push(`<line x1="${M.left}" y1="${sy(y)}" x2="${M.left + pw}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${sy(y) + 4}" text-anchor="end">${y >= 1 ? y.toLocaleString('en-US') : y.toFixed(-e)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`);
  series.forEach((s, i) => {
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
    const d = ps.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of ps) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`,
        `<text x="${(sx(p.x) + 5).toFixed(1)}" y="${(sy(p.y) - 5).toFixed(1)}" font-size="10" fill="${s.color}">${esc(p.label)}</text>`);
    }
    const ly = M.top + 14 + i * 18;
    out.push(`<line x1="${M.left + pw + 14}" y1="${ly - 4}" x2="${M.left + pw + 40}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${M.left + pw + 46}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** The service chart: sampan and etcd puts, p50 and p99 against req/s, points labelled by connections. */
export function serviceChart(rows: readonly Row[]): string | null {
  const puts = rows.filter((r) => r.workload === 'service' && r.extra.op === 'put');
  if (puts.length === 0) return null;
  const series: Series[] = [];
  for (const [system, color] of [['sampan', '#1f6fd1'], ['etcd', '#d1501f']] as const) {
    const rs = puts.filter((r) => r.extra.system === system).sort((a, b) => Number(a.extra.connections) - Number(b.extra.connections));
    const at = (pick: (r: Row) => number): Series['points'] => rs.map((r) => ({ x: r.opsPerSec, y: pick(r), label: `${String(r.extra.connections)}c` }));
    series.push({ name: `${system} p50`, color, points: at((r) => r.p50) }, { name: `${system} p99`, color, dashed: true, points: at((r) => r.p99) });
  }
  return renderChart('PUT, 3 replicas on loopback, wrk (1 thread)', 'requests per second (point label: connections)', series);
}

/**
 * The library chart: p50 and p99 against proposals/s for each shard count and size, labelled
 * by in-flight, and hashicorp/raft's rows (workload `hashicorp`) as one more series when present.
 */
export function libraryChart(rows: readonly Row[]): string | null {
  const props = rows.filter((r) => r.workload === 'library' && r.extra.read !== 'true' && r.extra.read !== 'lease');
  const hc = rows.filter((r) => r.workload === 'hashicorp').sort((a, b) => Number(a.extra.inflight) - Number(b.extra.inflight));
  if (props.length === 0 && hc.length === 0) return null;
  const colors = ['#1f6fd1', '#2a9d3a', '#8e3ad1', '#d1501f'];
  const keys = [...new Set(props.map((r) => `${String(r.extra.shards)}|${String(r.extra.size)}`))];
  const series: Series[] = [];
  keys.forEach((k, i) => {
    const [shards, size] = k.split('|');
    const rs = props.filter((r) => `${String(r.extra.shards)}|${String(r.extra.size)}` === k).sort((a, b) => Number(a.extra.inflight) - Number(b.extra.inflight));
    const color = colors[i % colors.length] as string;
    const at = (pick: (r: Row) => number): Series['points'] => rs.map((r) => ({ x: r.opsPerSec, y: pick(r), label: String(r.extra.inflight) }));
    const name = `${shards} shard${shards === '1' ? '' : 's'}, ${size} B`;
    series.push({ name: `${name} p50`, color, points: at((r) => r.p50) }, { name: `${name} p99`, color, dashed: true, points: at((r) => r.p99) });
  });
  // hashicorp/raft on the same workload (`hashicorp.ts`), when it ran.
  if (hc.length > 0) {
    const at = (pick: (r: Row) => number): Series['points'] => hc.map((r) => ({ x: r.opsPerSec, y: pick(r), label: String(r.extra.inflight) }));
    const name = `hashicorp/raft, ${String(hc[0]?.extra.size)} B`;
    series.push({ name: `${name} p50`, color: '#777777', points: at((r) => r.p50) }, { name: `${name} p99`, color: '#777777', dashed: true, points: at((r) => r.p99) });
  }
  return renderChart(hc.length > 0 ? 'Library: 3 processes, fsync on (sampan NodeHosts, hashicorp/raft)' : 'Library: 3 NodeHost processes, fsync on',
    'proposals per second (point label: in flight)', series);
}

/** Writes the charts the rows allow into `dir`; returns the files written. */
export function writeCharts(rows: readonly Row[], dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, svg] of [['bench-service.svg', serviceChart(rows)], ['bench-library.svg', libraryChart(rows)]] as const) {
    if (svg === null) continue;
    const f = path.join(dir, name);
    fs.writeFileSync(f, svg);
    written.push(f);
  }
  return written;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node dist/bench/chart.js ROWS.jsonl [OUT_DIR]');
    process.exit(2);
  }
  const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Row);
  for (const f of writeCharts(rows, process.argv[3] ?? 'docs')) console.log(`wrote ${f}`);
}
