/**
 * How long the time-skipping test server takes to start, per set of JVM flags: from spawning
 * the wrapper to its port accepting connections, and to its first gRPC answer (what the SDK
 * waits for, ~5 s at most). `--busy` keeps both cores spinning, as a vitest run does.
 *
 *   tsx bench/test-server-startup.ts [--runs 5] [--busy]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { ensureTestServer, fastStartJvmFlags, jvmFlagsVariable, testServerArchivePath } from '../scripts/toolchain/test-server';
import { freePort } from '../scripts/toolchain/ports';

const archiveFlag = `-XX:SharedArchiveFile=${testServerArchivePath}`;
const variants: { name: string; jvmFlags: string | undefined }[] = [
  { name: 'plain java', jvmFlags: '' },
  { name: 'C1 + SerialGC', jvmFlags: fastStartJvmFlags.join(' ') },
  { name: 'class archive only', jvmFlags: `-Xshare:auto ${archiveFlag}` },
  { name: 'wrapper default (all)', jvmFlags: undefined },
];

interface Startup {
  portMs: number;
  grpcMs: number;
}

async function main(): Promise<void> {
  const runsIndex = process.argv.indexOf('--runs');
  const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 5;
  const wrapper = await ensureTestServer();
  if (!wrapper) throw new Error('no test server wrapper here (needs java and mvn)');
  const spinners = process.argv.includes('--busy') ? startSpinners(2) : [];
  try {
    console.log(`${runs} runs each${spinners.length ? ', both cores busy' : ''}; milliseconds from spawn`);
    console.log('variant                 port median  port max  gRPC median  gRPC max');
    for (const variant of variants) {
      const startups: Startup[] = [];
      for (let run = 0; run < runs; run++) startups.push(await timeStartup(wrapper, variant.jvmFlags));
      const port = startups.map((s) => s.portMs);
      const grpc = startups.map((s) => s.grpcMs);
      console.log(`${variant.name.padEnd(22)} ${fmt(median(port), 12)} ${fmt(Math.max(...port), 9)} ${fmt(median(grpc), 12)} ${fmt(Math.max(...grpc), 9)}`);
    }
  } finally {
    for (const spinner of spinners) spinner.kill('SIGKILL');
  }
}

async function timeStartup(wrapper: string, jvmFlags: string | undefined): Promise<Startup> {
  const port = await freePort();
  const env = { ...process.env };
  if (jvmFlags === undefined) delete env[jvmFlagsVariable];
  else env[jvmFlagsVariable] = jvmFlags;
  const started = performance.now();
  const server = spawn(wrapper, [String(port)], { env, stdio: 'ignore' });
  try {
    await until(() => portAccepts(port));
    const portMs = performance.now() - started;
    await until(() => answersGrpc(port));
    return { portMs, grpcMs: performance.now() - started };
  } finally {
    await kill(server);
  }
}

async function until(probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error('test server did not start within 60 s');
    await delay(10);
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answersGrpc(port: number): Promise<boolean> {
  const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  try {
    await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/** SIGKILL, as the SDK stops it. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function startSpinners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function fmt(ms: number, width: number): string {
  return Math.round(ms).toString().padStart(width);
}

await main();
