import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { serve, type HttpBindings } from '@hono/node-server';
import type { Logger } from '../observability/logger';

export interface GracefulServeOptions {
  port: number;
  hostname?: string;
  /** How long requests in flight may take to finish once shutdown begins (PLEDGE_SHUTDOWN_GRACE_MS). */
  graceMs: number;
  /** Aborted the moment shutdown begins; the app's /readyz reads its signal and answers 503 `draining`. */
  draining?: AbortController;
  /** Runs once the last request has been answered (or cut off): close the database and Temporal here. */
  onDrained?: () => Promise<void>;
  log?: Pick<Logger, 'info' | 'warn'>;
}

export interface GracefulServer {
  server: Server;
  /** The address once the server listens (port 0 asks for any free port). */
  listening: Promise<AddressInfo>;
  /** Stops accepting connections, lets requests in flight finish within the grace period, then runs onDrained. */
  shutdown(reason?: string): Promise<{ unfinishedRequests: number }>;
}

/**
 * Serves a Hono app and drains it on request: readiness flips to `draining` at once, the listener
 * closes (new connections are refused), idle keep-alive connections are closed and busy ones are
 * answered with `Connection: close`, so that when the last response is sent nothing is open. Requests
 * still running when the grace period ends are cut off, and counted.
 */
export function serveWithGracefulShutdown(app: { fetch: (request: Request, env: HttpBindings) => Response | Promise<Response> }, options: GracefulServeOptions): GracefulServer {
  const server = serve({ fetch: app.fetch as never, port: options.port, hostname: options.hostname }) as Server;
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_request, response: ServerResponse) => {
    inFlight.add(response);
    if (draining) response.shouldKeepAlive = false;
    response.once('close', () => {
      inFlight.delete(response);
      if (draining) server.closeIdleConnections();
    });
  });
  const listening = new Promise<AddressInfo>((resolve, reject) => {
    server.once('listening', () => resolve(server.address() as AddressInfo));
    server.once('error', reject);
  });

  let shutdown: Promise<{ unfinishedRequests: number }> | undefined;
  return {
    server,
    listening,
    shutdown(reason = 'shutdown requested') {
      shutdown ??= (async () => {
        draining = true;
        options.draining?.abort();
        options.log?.info({ inFlightRequests: inFlight.size, graceMs: options.graceMs }, `draining (${reason}): no new connections; requests in flight may finish`);
        for (const response of inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const finishedInTime = await Promise.race([closed.then(() => true), delay(options.graceMs, false, { ref: false })]);
        const unfinishedRequests = finishedInTime ? 0 : inFlight.size;
        if (!finishedInTime) {
          options.log?.warn({ unfinishedRequests, graceMs: options.graceMs }, 'grace period over: cutting off the requests still in flight');
          server.closeAllConnections();
          await closed;
        }
        await options.onDrained?.();
        options.log?.info({ unfinishedRequests }, 'drained');
        return { unfinishedRequests };
      })();
      return shutdown;
    },
  };
}
