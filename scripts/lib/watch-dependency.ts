/**
 * Probes a dependency (Postgres, Temporal) every `intervalMs` and reports only changes: when it stops
 * answering and when it answers again. The probe's own timeout is the caller's.
 */
export function watchDependency(options: { name: string; probe: () => Promise<unknown>; intervalMs?: number; onChange: (up: boolean, detail: string) => void }): { stop(): void } {
  let up = true;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async () => {
    let nowUp: boolean;
    let detail = '';
    try {
      await options.probe();
      nowUp = true;
    } catch (error) {
      nowUp = false;
      detail = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
    }
    if (stopped) return;
    if (nowUp !== up) options.onChange(nowUp, detail);
    up = nowUp;
    timer = setTimeout(() => void check(), options.intervalMs ?? 5_000);
  };
  timer = setTimeout(() => void check(), options.intervalMs ?? 5_000);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
