/** What /proc says about this process and the ones it started: resident memory, CPU time, leftovers. */
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime: its own CPU and that of children it has reaped. */
  ticks: number;
}

function readStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return { pid: Number(pid), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), ticks };
  } catch {
    return undefined; // exited while we read
  }
}

function allProcesses(): ProcStat[] {
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
