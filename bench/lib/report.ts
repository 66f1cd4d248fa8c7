/** Shared by the bench scripts: the machine a run was on, percentiles, a plain table, the JSON result file. */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** What a figure was measured on; every result file carries it. */
export function machineInfo() {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The 1-, 5- and 15-minute load averages, rounded: other work on the machine shows here. */
export function loadAverage(): number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50/p95/p99/max of durations in ms, rounded to 0.1 ms. */
export function summariseLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return { count: sorted.length, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) };
}

/** A right-aligned table, first column left-aligned, each column as wide as its widest cell. */
export function printTable(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const cells = [columns, ...rows].map((row) => row.map((cell) => (typeof cell === 'number' && !Number.isInteger(cell) ? cell.toFixed(1) : String(cell))));
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  for (const row of cells) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

/**
 * Writes `{ bench, machine, loadBefore, loadAfter, ...data }` to the temp directory and prints
 * `results: <file>` (bench/run-all.ts reads that line).
 */
export function writeResults(bench: string, data: Record<string, unknown> & { loadBefore: number[] }): string {
  const file = join(tmpdir(), `pledge-bench-${bench}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const loadAfter = loadAverage();
  writeFileSync(file, JSON.stringify({ bench, machine: machineInfo(), ...data, loadAfter }, null, 2));
  console.log(`load average before ${data.loadBefore.join(' ')}, after ${loadAfter.join(' ')} (1, 5, 15 min) on ${machineInfo().cpus} cores`);
  console.log(`results: ${file}`);
  return file;
}
