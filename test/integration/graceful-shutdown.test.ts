import { connect } from 'node:net';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiDeps } from '../../api/deps';
import type { AppEnv } from '../../api/router';
import { healthRoutes } from '../../api/routes/health';
import { serveWithGracefulShutdown, type GracefulServer } from '../../api/serve';

// The API's SIGTERM path (api/server.ts) in-process: /readyz flips to draining, the listener closes,
// a request in flight still gets its answer, and only then are the connections closed.
const servers: GracefulServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((served) => served.shutdown('test over')));
});

function slowApp(draining: AbortController) {
  let entered!: () => void;
  let release!: () => void;
  const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  // /readyz answers 'draining' before it would ask Postgres or Temporal, so neither is needed here.
  const app = new OpenAPIHono<AppEnv>().route('/', healthRoutes({ draining: draining.signal } as unknown as ApiDeps));
  app.get('/slow', async (c) => {
    entered();
    await released;
    return c.json({ finished: true });
  });
  return { app, handlerEntered, release };
}

async function serveSlow(graceMs: number) {
  const draining = new AbortController();
  const { app, handlerEntered, release } = slowApp(draining);
  const onDrained = vi.fn(async () => {});
  const served = serveWithGracefulShutdown(app, { port: 0, hostname: '127.0.0.1', graceMs, draining, onDrained });
  servers.push(served);
  const { port } = await served.listening;
  return { app, served, port, onDrained, handlerEntered, release, url: `http://127.0.0.1:${port}` };
}

/** Resolves with the error code of a fresh TCP connection, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('graceful shutdown (API)', () => {
  it('a request in flight finishes after shutdown begins; readiness says draining and new connections are refused', async () => {
    const { app, served, port, url, onDrained, handlerEntered, release } = await serveSlow(5_000);
    // Before shutdown the stubbed dependencies make it merely not ready; draining is what shutdown adds.
    expect(await (await app.request('/readyz')).json()).toMatchObject({ status: 'not-ready' });
    const inFlight = fetch(`${url}/slow`);
    await handlerEntered;

    const drained = served.shutdown('SIGTERM');
    const readiness = await app.request('/readyz');
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'draining' });
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(onDrained).not.toHaveBeenCalled();

    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ finished: true });
    // The connection it came on is not kept for another request.
    expect(response.headers.get('connection')).toBe('close');
    expect(await drained).toEqual({ unfinishedRequests: 0 });
    expect(onDrained).toHaveBeenCalledTimes(1);
    expect(served.server.listening).toBe(false);
  });

  it('requests still running when the grace period ends are cut off and counted; the connections still close', async () => {
    const { served, url, onDrained, handlerEntered } = await serveSlow(200);
    const inFlight = fetch(`${url}/slow`).then(
      () => 'answered',
      () => 'cut off',
    );
    await handlerEntered;
    const began = Date.now();
    expect(await served.shutdown('SIGTERM')).toEqual({ unfinishedRequests: 1 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
    expect(await inFlight).toBe('cut off');
    expect(onDrained).toHaveBeenCalledTimes(1);
  });

  it('shutdown is idempotent: a second signal waits for the same drain', async () => {
    const { served, onDrained } = await serveSlow(1_000);
    const [first, second] = await Promise.all([served.shutdown('SIGTERM'), served.shutdown('SIGINT')]);
    expect(first).toEqual({ unfinishedRequests: 0 });
    expect(second).toBe(first);
    expect(onDrained).toHaveBeenCalledTimes(1);
  });
});
