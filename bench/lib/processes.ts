/** What /proc says about this process and the ones it started: resident memory, CPU time, leftovers. */
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

/** One process as /proc/<pid>/stat describes it (proc(5)). */
export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  zombie: boolean;
  /** utime + stime: its own CPU. */
  ownTicks: number;
  /** utime + stime + cutime + cstime: its own CPU and that of children it has reaped. */
  ticks: number;
  /** With the pid, names the process: a reused pid is another process. */
  startTime: string;
}

function readStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const ownTicks = Number(fields[11]) + Number(fields[12]);
    return {
      pid: Number(pid),
      ppid: Number(fields[1]),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      zombie: fields[0] === 'Z',
      ownTicks,
      ticks: ownTicks + Number(fields[13]) + Number(fields[14]),
      startTime: fields[19]!,
    };
  } catch {
    return undefined; // exited while we read
  }
}

/** Every process on the machine now. */
export function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(entry))
    .filter((stat): stat is ProcStat => stat !== undefined);
}

/** Resident set size of one process in MiB (VmRSS), or NaN once it has gone. */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU-seconds of a process and everything below it (live descendants plus reaped ones). */
export function treeCpuSeconds(pid: number): number {
  const procs = allProcesses();
  const below = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const proc of procs) {
      if (below.has(proc.pid) || !below.has(proc.ppid)) continue;
      below.add(proc.pid);
      grew = true;
    }
  }
  return procs.filter((proc) => below.has(proc.pid)).reduce((sum, proc) => sum + proc.ticks, 0) / ticksPerSecond;
}

/** CPU-seconds so far of each thread of a process (name from /proc/<pid>/task/<tid>/comm). */
export function threadCpuSeconds(pid: number): Map<number, { name: string; seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const fields = stat.slice(close + 2).split(' ');
        threads.set(Number(tid), { name: stat.slice(stat.indexOf('(') + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond });
      } catch {
        // the thread ended while we read
      }
    }
  } catch {
    // the process has gone
  }
  return threads;
}

/** The busiest threads between two threadCpuSeconds() readings, as cores busy over `seconds`. */
export function busiestThreads(before: Map<number, { name: string; seconds: number }>, after: Map<number, { name: string; seconds: number }>, seconds: number, top = 4) {
  return [...after.entries()]
    .map(([tid, thread]) => ({ tid, name: thread.name, cores: Math.round(((thread.seconds - (before.get(tid)?.seconds ?? 0)) / seconds) * 100) / 100 }))
    .sort((a, b) => b.cores - a.cores)
    .slice(0, top);
}

/** Busy CPU-seconds of the whole machine so far (all cores, minus idle and iowait). */
export function machineBusySeconds(): number {
  const [, ...cpu] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  return (cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!) / ticksPerSecond;
}

/** Processes this one started that are still running; tsx's own esbuild service ends with this process. */
export function childProcesses(): string[] {
  return allProcesses()
    .filter((proc) => proc.ppid === process.pid && proc.comm !== 'esbuild')
    .map((proc) => `${proc.pid} (${proc.comm})`);
}

/** A process as CpuTimeline sees it. */
export interface SampledProcess {
  pid: number;
  comm: string;
  /** Its command line, arguments joined by spaces. */
  cmdline: string;
}

interface TimelineSample {
  at: number;
  /** Cumulative CPU-seconds per group since the timeline started. */
  groups: Record<string, number>;
  machineBusy: number;
}

/**
 * The CPU of every process below this one, read from /proc every `intervalMs` and summed per group
 * (`classify` names a process's group from it and its ancestors below this process, the first
 * being this process's child). Each process counts its own utime + stime while it runs, so
 * processes that exit are not counted twice through their parent (at most `intervalMs` of a
 * process that exits is missed). `between` gives CPU-seconds per group and of the whole machine
 * between two times; `leftovers` the processes seen that are still running, orphans included.
 */
export class CpuTimeline {
  private readonly samples: TimelineSample[] = [];
  private readonly known = new Map<string, { pid: number; ticks: number; comm: string; cmdline: string }>();
  private readonly totals: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly classify: (proc: SampledProcess, ancestors: SampledProcess[]) => string,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  sample(): void {
    const first = this.samples.length === 0;
    const procs = new Map(allProcesses().map((proc) => [proc.pid, { ...proc, ticks: proc.ownTicks, key: `${proc.pid}:${proc.startTime}` }]));
    const described = (pid: number): SampledProcess => {
      const proc = procs.get(pid)!;
      let known = this.known.get(proc.key);
      if (!known || known.comm !== proc.comm) {
        // First sight, or it has exec'd since (a fork shows its parent's name until then).
        let cmdline = '';
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        } catch {
          // gone
        }
        known = { pid, ticks: known?.ticks ?? (first ? proc.ticks : 0), comm: proc.comm, cmdline };
        this.known.set(proc.key, known);
      }
      return { pid, comm: known.comm, cmdline: known.cmdline };
    };
    for (const [pid, proc] of procs) {
      if (proc.zombie) continue;
      // Its ancestors below this process, nearest last; not below this process: skip.
      const chain: number[] = [];
      let up = proc.ppid;
      while (up !== process.pid && procs.has(up) && chain.length < 64) {
        chain.unshift(up);
        up = procs.get(up)!.ppid;
      }
      if (up !== process.pid) continue;
      const self = described(pid);
      const known = this.known.get(proc.key)!;
      const group = this.classify(self, chain.map(described));
      this.totals[group] = (this.totals[group] ?? 0) + (proc.ticks - known.ticks) / ticksPerSecond;
      known.ticks = proc.ticks;
    }
    this.samples.push({ at: Date.now(), groups: { ...this.totals }, machineBusy: machineBusySeconds() });
  }

  /** CPU-seconds per group, and busy seconds of the machine, between the samples nearest outside [from, to] (ms since epoch). */
  between(from: number, to: number): { seconds: number; groups: Record<string, number>; machineBusy: number } {
    if (this.samples.length === 0) return { seconds: 0, groups: {}, machineBusy: 0 };
    let start = this.samples[0]!;
    for (const sample of this.samples) if (sample.at <= from) start = sample;
    const end = this.samples.find((s) => s.at >= to) ?? this.samples.at(-1)!;
    const groups: Record<string, number> = {};
    for (const [group, seconds] of Object.entries(end.groups)) {
      const delta = seconds - (start.groups[group] ?? 0);
      if (delta > 0) groups[group] = Math.round(delta * 100) / 100;
    }
    return { seconds: (end.at - start.at) / 1000, groups, machineBusy: Math.round((end.machineBusy - start.machineBusy) * 100) / 100 };
  }

  /** Processes it has seen that are still running (not zombies), wherever they now hang in the tree. */
  leftovers(): Array<{ pid: number; ppid: number; comm: string }> {
    const left: Array<{ pid: number; ppid: number; comm: string }> = [];
    for (const [key, proc] of this.known) {
      try {
        const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (`${proc.pid}:${fields[19]}` === key && fields[0] !== 'Z') left.push({ pid: proc.pid, ppid: Number(fields[1]), comm: proc.comm });
      } catch {
        // gone
      }
    }
    return left;
  }
}
