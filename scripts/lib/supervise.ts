import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How long to wait before restarting a process that exited. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A process that ran at least this long before it exited starts again from `initialMs`. */
  resetAfterMs: number;
}

/** 1 s, doubling to 30 s; back to 1 s after a minute up. */
export const defaultBackoff: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

export function nextRestartDelayMs(previousDelayMs: number | undefined, uptimeMs: number, policy: BackoffPolicy): number {
  if (previousDelayMs === undefined || uptimeMs >= policy.resetAfterMs) return policy.initialMs;
  return Math.min(previousDelayMs * 2, policy.maxMs);
}

export interface ChildExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
  uptimeMs: number;
}

export interface SuperviseOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  backoff?: Partial<BackoffPolicy>;
  /** After SIGTERM, how long the process has to exit before it gets SIGKILL. */
  stopTimeoutMs?: number;
  /** Every line the process writes, stdout and stderr. */
  onOutput?: (line: string) => void;
  /** The supervisor's own lines: each exit and the restart planned after it. */
  log?: (message: string) => void;
  /** Asked on every exit that stop() did not cause; 'give-up' leaves the process stopped. */
  onExit?: (exit: ChildExit) => 'restart' | 'give-up';
}

export interface Supervised {
  readonly name: string;
  /** The running process, or undefined while it waits to be restarted (or after stop). */
  readonly pid: number | undefined;
  /** How many times the process has been restarted. */
  readonly restarts: number;
  /** Cancels any pending restart and stops the process: SIGTERM, then SIGKILL after stopTimeoutMs. */
  stop(): Promise<void>;
}

export function describeExit(exit: Pick<ChildExit, 'code' | 'signal' | 'error'>): string {
  if (exit.error) return `could not start: ${exit.error.message}`;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

function describeDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * Runs a command and restarts it whenever it exits, waiting longer after each quick failure
 * (`defaultBackoff`). Only stop() ends it for good.
 */
export function supervise(options: SuperviseOptions): Supervised {
  const policy = { ...defaultBackoff, ...options.backoff };
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const log = options.log ?? ((message: string) => console.error(message));
  let child: ChildProcess | undefined;
  let startedAt = 0;
  let lastDelayMs: number | undefined;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;

  function start(): void {
    restartTimer = undefined;
    startedAt = Date.now();
    const current = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = current;
    for (const stream of [current.stdout, current.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => options.onOutput?.(line));
    }
    // 'close' comes after the last output line, so the exit is reported after what led to it.
    current.once('close', (code, signal) => exited(current, { code, signal }));
    current.once('error', (error) => {
      if (current.pid === undefined) exited(current, { code: null, signal: null, error });
    });
  }

  function exited(which: ChildProcess, how: Pick<ChildExit, 'code' | 'signal' | 'error'>): void {
    if (child !== which) return;
    child = undefined;
    if (stopped) return;
    const exit: ChildExit = { name: options.name, ...how, uptimeMs: Date.now() - startedAt };
    if (options.onExit?.(exit) === 'give-up') {
      log(`[${options.name}] ${describeExit(exit)} after ${describeDuration(exit.uptimeMs)}; not restarted`);
      return;
    }
    lastDelayMs = nextRestartDelayMs(lastDelayMs, exit.uptimeMs, policy);
    restarts += 1;
    log(`[${options.name}] ${describeExit(exit)} after ${describeDuration(exit.uptimeMs)}; restarting in ${describeDuration(lastDelayMs)} (restart ${restarts})`);
    restartTimer = setTimeout(start, lastDelayMs);
  }

  start();
  return {
    name: options.name,
    get pid() {
      return child?.pid;
    },
    get restarts() {
      return restarts;
    },
    stop() {
      stopped ??= (async () => {
        clearTimeout(restartTimer);
        const current = child;
        if (!current || current.exitCode !== null || current.signalCode !== null) return;
        const closed = new Promise<void>((resolve) => current.once('close', () => resolve()));
        current.kill('SIGTERM');
        const killTimer = setTimeout(() => current.kill('SIGKILL'), stopTimeoutMs);
        await closed;
        clearTimeout(killTimer);
      })();
      return stopped;
    },
  };
}
