/** Figures for bench/intake.ts: latency and CPU per run, CPU per process group from /proc, intake timelines from histories. */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import protos from '@temporalio/proto';
import { readFileSync } from 'node:fs';
import { allProcesses } from './lib/processes';
import { percentile } from './lib/report';

export interface Opened {
  workflowId: string;
  /** Wall clock (ms since epoch), comparable with history event times on this machine. */
  sentAt: number;
  answeredAt: number;
  ok: boolean;
  /** API only: the 201 body lists its deadlines, each with a due time. */
  withDeadlines?: boolean;
}

const ticksPerSecond = 100; // USER_HZ on Linux
type Group = 'bench' | 'temporal' | 'postgres';
interface CpuSnapshot {
  selfMicros: number;
  childTicks: Record<Group, number>;
  machineBusyTicks: number;
}

/**
 * This process (API, worker, load generator), and the processes below it grouped by the child it
 * started: the Temporal dev server and the Postgres postmaster with its backends. cutime/cstime
 * carry the CPU of backends that have already exited.
 */
export function cpuSnapshot(): CpuSnapshot {
  const procs = new Map(allProcesses().map((proc) => [proc.pid, proc]));
  const childTicks: Record<Group, number> = { bench: 0, temporal: 0, postgres: 0 };
  for (const [pid, proc] of procs) {
    let top = pid;
    while (procs.has(top) && procs.get(top)!.ppid !== process.pid) top = procs.get(top)!.ppid;
    const comm = procs.get(top)?.comm;
    if (!comm) continue;
    childTicks[comm.startsWith('temporal') ? 'temporal' : comm === 'postgres' ? 'postgres' : 'bench'] += proc.ticks;
  }
  const usage = process.cpuUsage();
  const [, ...cpu] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const machineBusyTicks = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!; // minus idle and iowait
  return { selfMicros: usage.user + usage.system, childTicks, machineBusyTicks };
}

/** CPU-seconds used since `before`: this process, Temporal, Postgres, and everything else on the machine. */
export function cpuSecondsSince(before: CpuSnapshot): Record<'bench' | 'temporal' | 'postgres' | 'others', number> {
  const now = cpuSnapshot();
  const ticks = (group: Group) => (now.childTicks[group] - before.childTicks[group]) / ticksPerSecond;
  const bench = (now.selfMicros - before.selfMicros) / 1e6 + ticks('bench');
  const machine = (now.machineBusyTicks - before.machineBusyTicks) / ticksPerSecond;
  return { bench, temporal: ticks('temporal'), postgres: ticks('postgres'), others: Math.max(0, machine - bench - ticks('temporal') - ticks('postgres')) };
}

const eventTypeName = (type: number) =>
  (protos.temporal.api.enums.v1.EventType[type] ?? String(type))
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)(\w)/g, (_, __, letter: string) => letter.toUpperCase());

/**
 * The p50 time, from the request being sent, of each history event and of the answer, over a few
 * cases (the n-th occurrence of an event type is its own row), with the p50 gap to the step before.
 */
export async function intakeTimeline(temporal: Client, opened: Opened[]): Promise<Array<{ event: string; p50At: number; p50Delta: number }>> {
  const at = new Map<string, number[]>();
  const delta = new Map<string, number[]>();
  for (const o of opened) {
    const events = (await temporal.workflow.getHandle(o.workflowId).fetchHistory()).events ?? [];
    const seen = new Map<string, number>();
    const steps = events.map((event) => {
      const name = eventTypeName(event.eventType ?? 0);
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      return { event: n > 1 ? `${name} #${n}` : name, at: tsToMs(event.eventTime) - o.sentAt };
    });
    steps.push({ event: '(answer received)', at: o.answeredAt - o.sentAt });
    steps.sort((a, b) => a.at - b.at);
    steps.forEach((step, i) => {
      at.set(step.event, [...(at.get(step.event) ?? []), step.at]);
      delta.set(step.event, [...(delta.get(step.event) ?? []), step.at - (i > 0 ? steps[i - 1]!.at : 0)]);
    });
  }
  const p50 = (values: number[]) =>
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    );
  return [...at.entries()].map(([event, values]) => ({ event, p50At: p50(values), p50Delta: p50(delta.get(event)!) })).sort((a, b) => a.p50At - b.p50At);
}

export interface RunResult {
  opened: Opened[];
  /** Until the last answer. */
  wallMs: number;
  /** Until every case's intake is recorded. */
  recordedMs: number;
  cpu: ReturnType<typeof cpuSecondsSince>;
  mainLoop: number;
}

export type Row = ReturnType<typeof summarise>;

export function summarise(mode: 'api' | 'raw', concurrency: number, { opened, wallMs, recordedMs, cpu, mainLoop }: RunResult) {
  const latencies = opened.map((o) => o.answeredAt - o.sentAt).sort((a, b) => a - b);
  const perSecond = (ms: number) => Math.round((opened.length / ms) * 10_000) / 10;
  const perCase = (seconds: number) => Math.round((seconds * 10_000) / opened.length) / 10;
  return {
    mode,
    concurrency,
    count: opened.length,
    casesPerSecond: perSecond(wallMs),
    recordedPerSecond: perSecond(recordedMs),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    failed: opened.filter((o) => !o.ok).length,
    withoutDeadlines: opened.filter((o) => o.ok && o.withDeadlines === false).length,
    cpuMsPerCase: { bench: perCase(cpu.bench), temporal: perCase(cpu.temporal), postgres: perCase(cpu.postgres) },
    othersCores: cpu.others / (recordedMs / 1000),
    mainLoop,
  };
}

export function printRows(rows: Row[], temporalDb: string): void {
  console.log(`\ntemporal dev server on ${temporalDb}. recorded/s: until every case's intake is in Postgres (a raw start answers before that).`);
  console.log('bench/temporal/postgres ms: CPU per case until then, of this process (API + worker + load), the Temporal server, Postgres;');
  console.log('others: cores busy with other work on this 2-core machine; loop: event-loop utilisation of this process.');
  const columns = ['mode', 'conc.', 'cases', 'cases/s', 'recorded/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'non-201', 'no-dueAt', 'bench ms', 'temporal ms', 'postgres ms', 'others', 'loop'];
  const line = (cells: Array<string | number>) => cells.map((cell, i) => String(cell).padStart(columns[i]!.length + (i > 0 ? 2 : 0))).join('');
  console.log(line(columns));
  for (const row of rows) {
    const { bench, temporal, postgres } = row.cpuMsPerCase;
    console.log(
      line([
        row.mode,
        row.concurrency,
        row.count,
        row.casesPerSecond.toFixed(1),
        row.recordedPerSecond.toFixed(1),
        row.p50,
        row.p95,
        row.p99,
        row.max,
        row.failed,
        row.mode === 'api' ? row.withoutDeadlines : '-',
        bench.toFixed(1),
        temporal.toFixed(1),
        postgres.toFixed(1),
        row.othersCores.toFixed(2),
        `${Math.round(row.mainLoop * 100)}%`,
      ]),
    );
  }
}

export type Timeline = Awaited<ReturnType<typeof intakeTimeline>>;

/** One row per history event, one column per run: p50 ms from the request being sent / p50 gap to the step before. */
export function printTimelines(timelines: Record<string, Timeline>, samples: number): void {
  const labels = Object.keys(timelines);
  const events = [...new Set(labels.flatMap((label) => timelines[label]!.map((step) => step.event)))];
  console.log(`\nwhere the time goes: p50 ms from the request being sent / p50 gap to the step before, over ${samples} histories per run`);
  console.log(['history event'.padEnd(34), ...labels.map((label) => label.padStart(14))].join(''));
  for (const event of events) {
    const cell = (label: string) => timelines[label]!.find((step) => step.event === event);
    console.log([event.padEnd(34), ...labels.map((label) => (cell(label) ? `${cell(label)!.p50At}/+${cell(label)!.p50Delta}` : '').padStart(14))].join(''));
  }
}
