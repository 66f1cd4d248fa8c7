import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { nextRestartDelayMs, supervise, type SuperviseOptions, type Supervised } from '../../scripts/lib/supervise';

// The supervisor `npm start` runs the worker and the API under (scripts/lib/supervise.ts), tried on
// tiny Node scripts that say when they start and then exit, hang, or ignore SIGTERM.
const script = (body: string) => ['-e', `console.log('up ' + process.pid); ${body}`];
const running: Supervised[] = [];
const pidsSeen = new Set<number>();

/** Retries `assertion` until it passes or the time is up (then its failure is the test's). */
async function eventually(assertion: () => void, { timeoutMs = 10_000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(25);
    }
  }
}

function start(options: Omit<SuperviseOptions, 'command'> & { command?: string }) {
  const starts: Array<{ pid: number; at: number }> = [];
  const messages: string[] = [];
  const supervised = supervise({
    command: process.execPath,
    ...options,
    onOutput: (line) => {
      const pid = Number(/^up (\d+)$/.exec(line)?.[1]);
      if (pid) {
        starts.push({ pid, at: Date.now() });
        pidsSeen.add(pid);
      }
    },
    log: (message) => messages.push(message),
  });
  running.push(supervised);
  return { supervised, starts, messages };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervised) => supervised.stop()));
  // Nothing any test started is left running.
  expect([...pidsSeen].filter(alive)).toEqual([]);
});

describe('supervision (npm start)', () => {
  it('back-off doubles from the initial delay to the cap, and starts over after a long enough run', () => {
    const policy = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };
    const delays: number[] = [];
    let previous: number | undefined;
    for (let restart = 0; restart < 7; restart++) delays.push((previous = nextRestartDelayMs(previous, 500, policy)));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(nextRestartDelayMs(30_000, 60_000, policy)).toBe(1_000);
  });

  it('restarts a process that keeps exiting, waiting longer each time, and logs each exit code', async () => {
    const { starts, messages } = start({ name: 'flaky', args: script('setTimeout(() => process.exit(3), 10)'), backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 60_000 } });
    await eventually(() => expect(starts.length).toBeGreaterThanOrEqual(5), { timeoutMs: 15_000 });
    expect(messages.slice(0, 4)).toEqual([
      expect.stringMatching(/^\[flaky\] exit code 3 after \d+ ms; restarting in 100 ms \(restart 1\)$/),
      expect.stringMatching(/restarting in 200 ms \(restart 2\)$/),
      expect.stringMatching(/restarting in 400 ms \(restart 3\)$/),
      expect.stringMatching(/restarting in 400 ms \(restart 4\)$/),
    ]);
    const gaps = starts.slice(1, 5).map((started, index) => started.at - starts[index]!.at);
    [100, 200, 400, 400].forEach((expectedDelay, index) => expect(gaps[index]).toBeGreaterThanOrEqual(expectedDelay));
    expect(new Set(starts.map((started) => started.pid)).size).toBe(starts.length);
  });

  it('a process that ran longer than resetAfterMs before failing is restarted after the initial delay again', async () => {
    const { starts, messages } = start({ name: 'steady', args: script('setTimeout(() => process.exit(1), 250)'), backoff: { initialMs: 50, maxMs: 1_000, resetAfterMs: 200 } });
    await eventually(() => expect(starts.length).toBeGreaterThanOrEqual(4), { timeoutMs: 15_000 });
    for (const message of messages.slice(0, 3)) expect(message).toMatch(/restarting in 50 ms/);
  });

  it('a process killed with SIGKILL comes back, and the kill is named', async () => {
    const { supervised, starts, messages } = start({ name: 'worker', args: script('setInterval(() => {}, 1000)'), backoff: { initialMs: 100 } });
    await eventually(() => expect(starts).toHaveLength(1));
    const first = starts[0]!.pid;
    process.kill(first, 'SIGKILL');
    await eventually(() => expect(starts).toHaveLength(2));
    expect(messages).toEqual([expect.stringMatching(/^\[worker\] signal SIGKILL after .*; restarting in 100 ms \(restart 1\)$/)]);
    expect(supervised.pid).toBe(starts[1]!.pid);
    expect(supervised.restarts).toBe(1);
    expect(alive(first)).toBe(false);
  });

  it('stop() ends the process with SIGTERM and it is not restarted', async () => {
    const { supervised, starts, messages } = start({ name: 'api', args: script('setInterval(() => {}, 1000)'), backoff: { initialMs: 50 } });
    await eventually(() => expect(starts).toHaveLength(1));
    await supervised.stop();
    expect(alive(starts[0]!.pid)).toBe(false);
    await delay(300);
    expect(starts).toHaveLength(1);
    expect(messages).toEqual([]);
    expect(supervised.pid).toBeUndefined();
  });

  it('stop() escalates to SIGKILL for a process that ignores SIGTERM', async () => {
    // The child says when its SIGTERM handler is in place: a SIGTERM before that would simply end it.
    const marker = join(mkdtempSync(join(tmpdir(), 'pledge-stubborn-')), 'ready');
    const { supervised, starts } = start({
      name: 'stubborn',
      args: script(`process.on('SIGTERM', () => console.log('ignoring SIGTERM')); require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); setInterval(() => {}, 1000)`),
      stopTimeoutMs: 300,
    });
    await eventually(() => expect(starts).toHaveLength(1));
    await eventually(() => expect(existsSync(marker)).toBe(true));
    const began = Date.now();
    await supervised.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(alive(starts[0]!.pid)).toBe(false);
  });

  it('stop() during the back-off wait cancels the restart', async () => {
    const { supervised, starts, messages } = start({ name: 'crashing', args: script('process.exit(2)'), backoff: { initialMs: 400 } });
    await eventually(() => expect(messages).toHaveLength(1));
    await supervised.stop();
    await delay(600);
    expect(starts).toHaveLength(1);
  });

  it('onExit can give up (npm start does while the stack is still starting)', async () => {
    const exits: string[] = [];
    const { starts, messages } = start({ name: 'early', args: script('process.exit(4)'), backoff: { initialMs: 50 }, onExit: (exit) => (exits.push(`${exit.code}`), 'give-up') });
    await eventually(() => expect(messages).toEqual([expect.stringMatching(/^\[early\] exit code 4 after .*; not restarted$/)]));
    await delay(200);
    expect(exits).toEqual(['4']);
    expect(starts).toHaveLength(1);
  });

  it('a command that cannot be started is reported and retried like a crash', async () => {
    const { supervised, messages } = start({ name: 'missing', command: '/nonexistent/pledge-child', args: [], backoff: { initialMs: 50 } });
    await eventually(() => expect(messages.length).toBeGreaterThanOrEqual(2));
    expect(messages[0]).toMatch(/^\[missing\] could not start: spawn \/nonexistent\/pledge-child ENOENT/);
    await supervised.stop();
  });
});
