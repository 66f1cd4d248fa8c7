import { createServer } from 'node:net';

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Fails with one line that says who holds the port and how to choose another. */
export function assertPortFree(port: number, what: string, envVar?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const hint = envVar ? `stop what holds it (another Pledge still running? try: ss -ltnp 'sport = :${port}') or set ${envVar}` : 'stop what holds it';
      reject(new Error(error.code === 'EADDRINUSE' ? `port ${port} for ${what} is already in use: ${hint}` : `cannot listen on port ${port} for ${what}: ${error.message}`));
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
