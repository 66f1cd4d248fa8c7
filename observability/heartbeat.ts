import { writeFile } from 'node:fs/promises';

/**
 * Rewrites `path` every `intervalMs` while `alive()` holds, so a container health check can tell a
 * process that still runs its loop from one that hangs: `stat` the file and compare its age.
 */
export function startHeartbeat(path: string, alive: () => boolean, intervalMs = 10_000): { stop(): void } {
  const beat = () => {
    if (alive()) writeFile(path, `${new Date().toISOString()}\n`).catch(() => {});
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
