// Shared output of every benchmark: results/<name>.json, results/<name>.svg (a bar chart) and
// the figures table in test/bench/README.md, regenerated from all result files.
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = path.join(benchDir, 'results');

/** One headline figure of a benchmark, shown in the README table. */
export interface Figure {
  figure: string;
  value: number | null;
  unit: string;
  /** Human-readable goal, e.g. "≤ 30". */
  goal?: string;
  /** Whether the goal was met; undefined when there is no goal. */
  ok?: boolean;
}

export interface ChartSpec {
  title: string;
  unit: string;
  bars: { label: string; value: number; group?: string }[];
}

export function writeResult(name: string, data: Record<string, unknown>, figures: Figure[], chart?: ChartSpec): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.json`);
  const payload = {
    ...data,
    summary: figures,
    measured_at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      mem_bytes: os.totalmem(),
      node: process.version,
    },
  };
  writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  if (chart) writeFileSync(path.join(resultsDir, `${name}.svg`), barChart(chart));
  writeReadmeTable();
  return file;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A dependency-free horizontal bar chart. */
export function barChart(spec: ChartSpec): string {
  const rowH = 22;
  const labelW = 260;
  const barW = 420;
  const h = 40 + spec.bars.length * rowH + 10;
  const max = Math.max(1e-9, ...spec.bars.map((b) => b.value));
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const groups = [...new Set(spec.bars.map((b) => b.group ?? ''))];
  const rows = spec.bars
    .map((b, i) => {
      const y = 36 + i * rowH;
      const w = Math.max(1, (b.value / max) * barW);
      const color = palette[groups.indexOf(b.group ?? '') % palette.length];
      const v = Number.isInteger(b.value) ? String(b.value) : b.value.toPrecision(4);
      return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text><rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}"/><text x="${labelW + w + 4}" y="${y + 14}">${esc(v)} ${esc(spec.unit)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 140}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="14" font-weight="bold">${esc(spec.title)}</text>
${rows}
</svg>
`;
}

function fmt(v: number | null): string {
  if (v === null) return 'n/a';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/** Rewrites the part of README.md between the markers from every results/*.json. */
export function writeReadmeTable(): void {
  const readme = path.join(benchDir, 'README.md');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const lines: string[] = [
    start,
    '',
    '| benchmark | figure | value | unit | goal | met | measured |',
    '|---|---|---|---|---|---|---|',
  ];
  const files = existsSync(resultsDir)
    ? readdirSync(resultsDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  for (const f of files) {
    const data = JSON.parse(readFileSync(path.join(resultsDir, f), 'utf8')) as {
      summary?: Figure[];
      measured_at?: string;
    };
    const name = f.replace(/\.json$/, '');
    for (const s of data.summary ?? []) {
      const met = s.ok === undefined ? '' : s.ok ? 'yes' : '**no**';
      lines.push(
        `| ${name} | ${s.figure} | ${fmt(s.value)} | ${s.unit} | ${s.goal ?? ''} | ${met} | ${(data.measured_at ?? '').slice(0, 10)} |`,
      );
    }
  }
  lines.push('', end);
  const current = existsSync(readme) ? readFileSync(readme, 'utf8') : '# Benchmarks\n\n' + start + '\n' + end + '\n';
  const i = current.indexOf(start);
  const j = current.indexOf(end);
  const next =
    i >= 0 && j > i
      ? current.slice(0, i) + lines.join('\n') + current.slice(j + end.length)
      : current + '\n' + lines.join('\n') + '\n';
  writeFileSync(readme, next);
}
