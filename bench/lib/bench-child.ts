import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchChildOutcome {
  code: number;
  timedOut: boolean;
  wallMs: number;
  /** The path of the bench's `results:` line, when it printed one. */
  resultFile?: string;
}

/**
 * Runs one bench script in a process of its own, its output passed through as it comes. A bench
 * that outlives `timeoutMs` (a contended machine, a server that stopped answering) is stopped and
 * counts as failed. `onChild` is told the running child, then undefined once it has exited.
 */
export function runBenchChild(
  bench: { name: string; script: string; args: string[]; env?: NodeJS.ProcessEnv },
  options: { timeoutMs?: number; onChild?: (child: ChildProcess | undefined) => void } = {},
): Promise<BenchChildOutcome> {
  const startedAt = performance.now();
  console.log(`\n=== ${bench.name}: npx tsx ${bench.script} ${bench.args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bench.script, ...bench.args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...bench.env } });
    options.onChild?.(child);
    let resultFile: string | undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith('results: ')) resultFile = line.slice('results: '.length).trim();
    });
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            console.error(`${bench.name} did not finish within ${Math.round(options.timeoutMs! / 60_000)} minutes: stopping it`);
            child.kill('SIGTERM');
            kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
          }, options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      options.onChild?.(undefined);
      resolve({ code: code ?? (signal ? 1 : 0), timedOut, wallMs: Math.round(performance.now() - startedAt), ...(resultFile ? { resultFile } : {}) });
    });
  });
}
