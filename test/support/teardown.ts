/**
 * What a test bed started, to stop in reverse order. A bed that fails half-way through starting
 * stops what it had already started, so a failed `beforeAll` leaves no server running.
 */
export class Teardown {
  private stops: Array<() => Promise<unknown>> = [];

  /** Registers the stop of a thing being started, once it has started. */
  async add<T>(starting: Promise<T>, stop: (started: T) => Promise<unknown> | unknown): Promise<T> {
    const started = await starting;
    this.stops.push(async () => stop(started));
    return started;
  }

  /** Registers the stop of something already running. */
  defer(stop: () => Promise<unknown> | unknown): void {
    this.stops.push(async () => stop());
  }

  /** Runs `start`; if it throws, stops everything registered so far, then rethrows. */
  async unwindOnFailure<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.run().catch(() => {});
      throw error;
    }
  }

  /** Stops everything, each stop tried even when an earlier one fails. */
  async run(): Promise<void> {
    const stops = this.stops.reverse();
    this.stops = [];
    const failures: unknown[] = [];
    for (const stop of stops) await stop().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} part(s) of the test bed failed to stop`);
  }
}

/** Like Promise.all, but waits for every start to settle, so none is still starting when a failure unwinds. */
export async function allSettledOrThrow<T extends readonly unknown[]>(starting: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starting);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
