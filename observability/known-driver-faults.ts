// postgres.js 3.4.9 can throw from a socket callback after the server went away
// (`Cannot read properties of null (reading 'write')` in connection.js; porsager/postgres#1154,
// #1208; fixes unmerged). Nothing awaits that callback, so it reaches `uncaughtException` and
// would end the process; the pool reconnects on its own, so this one error is logged and survived.
// Anything else still ends the process.
export function isKnownPostgresSocketRace(error: unknown): boolean {
  return error instanceof TypeError && /reading 'write'/.test(error.message) && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '');
}

export function surviveKnownPostgresSocketRace(log: { warn(fields: object, message: string): void }): void {
  process.on('uncaughtException', (error) => {
    if (isKnownPostgresSocketRace(error)) {
      log.warn({ err: error.message }, 'postgres.js socket race after a lost connection; the pool reconnects');
      return;
    }
    // What Node would have done without this listener.
    console.error(error);
    process.exit(1);
  });
}
