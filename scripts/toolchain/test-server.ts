import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { cacheDir } from './paths';
import { freePort } from './ports';
import { commandOnPath } from './temporal-cli';
import type { Connection as TemporalConnection } from '@temporalio/client';

/** The newest 1.x of io.temporal:temporal-test-server on Maven Central when this was pinned. */
export const testServerVersion = '1.38.0';

const installDir = join(cacheDir, `temporal-test-server-${testServerVersion}`);
const libDir = join(installDir, 'lib');
export const testServerWrapperPath = join(installDir, 'temporal-test-server');
export const testServerArchivePath = join(installDir, 'classes.jsa');

/**
 * The SDK gives the server ~5 s to open its port and a 2-core machine running vitest is busy:
 * C1 only and the serial collector start the JVM quicker, and the class archive saves loading
 * and verifying the ~40 jars' classes on each start (see bench/test-server-startup.ts).
 */
export const fastStartJvmFlags = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];

/** Set (even empty) to replace the wrapper's JVM flags; the startup bench compares them this way. */
export const jvmFlagsVariable = 'TEMPORAL_TEST_SERVER_JVM_FLAGS';

const runFile = promisify(execFile);

/**
 * An executable that starts the time-skipping test server as `<path> <port>`, which is how the
 * SDK runs an `existing-path` server. Undefined without Java and Maven.
 */
export async function ensureTestServer(log: (msg: string) => void = console.log): Promise<string | undefined> {
  const override = process.env.TEMPORAL_TEST_SERVER;
  if (override) {
    if (!existsSync(override)) throw new Error(`TEMPORAL_TEST_SERVER is set to ${override}, which does not exist`);
    return override;
  }
  if (existsSync(testServerWrapperPath)) return testServerWrapperPath;
  if (!commandOnPath('java') || !commandOnPath('mvn')) {
    log("Test server: no java and mvn on PATH; tests will use the SDK's download");
    return undefined;
  }
  log(`Test server: fetching io.temporal:temporal-test-server:${testServerVersion} with Maven into ${installDir}`);
  await copyRuntimeJars();
  const pendingWrapper = `${testServerWrapperPath}.pending`;
  writeWrapper(pendingWrapper, false);
  log('Test server: recording a class archive so later starts are quick');
  const archived = await recordClassArchive(pendingWrapper).catch((error: Error) => {
    log(`Test server: no class archive (${error.message}); starts will be slower`);
    return false;
  });
  writeWrapper(pendingWrapper, archived);
  // The wrapper appears last, so its presence means the whole install finished.
  renameSync(pendingWrapper, testServerWrapperPath);
  return testServerWrapperPath;
}

/** For test setup, which must not download: the wrapper when installed, else the SDK's cached download. */
export function timeSkippingServer(): { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string } {
  const path = process.env.TEMPORAL_TEST_SERVER ?? testServerWrapperPath;
  if (existsSync(path)) return { type: 'existing-path', path };
  return { type: 'cached-download', downloadDir: cacheDir };
}

async function copyRuntimeJars(): Promise<void> {
  mkdirSync(installDir, { recursive: true });
  rmSync(libDir, { recursive: true, force: true });
  writeFileSync(join(installDir, 'pom.xml'), runtimePom());
  const args = ['-B', '-q', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libDir}`];
  try {
    await runFile('mvn', args, { cwd: installDir, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`mvn ${args.join(' ')} failed in ${installDir}:\n${`${stdout ?? ''}${stderr ?? ''}`.slice(-4_000)}`);
  }
}

function runtimePom(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.pledge</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${testServerVersion}</version>
    </dependency>
  </dependencies>
</project>
`;
}

function writeWrapper(path: string, withArchive: boolean): void {
  // A class archive only applies to the exact classpath it was recorded with, so the jars are listed, not globbed.
  const classpath = readdirSync(libDir)
    .filter((name) => name.endsWith('.jar'))
    .sort()
    .map((name) => join(libDir, name))
    .join(':');
  const flags = [...fastStartJvmFlags, ...(withArchive ? [`-XX:SharedArchiveFile=${testServerArchivePath}`] : [])];
  const script = `#!/bin/sh
# Temporal's time-skipping test server ${testServerVersion}, written by scripts/toolchain/test-server.ts.
# Usage: temporal-test-server <port>. Set ${jvmFlagsVariable} to replace the JVM flags.
default_flags=${shellQuote(flags.join(' '))}
flags=\${${jvmFlagsVariable}-$default_flags}
# exec, so that the SDK's kill reaches the JVM itself.
exec java $flags -cp ${shellQuote(classpath)} io.temporal.testserver.TestServer "$@"
`;
  writeFileSync(path, script, { mode: 0o755 });
}

/**
 * Runs the server once with -XX:ArchiveClassesAtExit, sends it the calls a test makes, and stops
 * it with SIGTERM (the JVM writes the archive on an orderly exit, never on the SDK's SIGKILL).
 */
async function recordClassArchive(wrapper: string): Promise<boolean> {
  rmSync(testServerArchivePath, { force: true });
  const port = await freePort();
  const recordingFlags = [...fastStartJvmFlags, `-XX:ArchiveClassesAtExit=${testServerArchivePath}`].join(' ');
  const server = spawn(wrapper, [String(port)], {
    env: { ...process.env, [jvmFlagsVariable]: recordingFlags },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  server.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  try {
    await exerciseServer(`127.0.0.1:${port}`);
  } finally {
    server.kill('SIGTERM');
  }
  const exitTimeout = delay(120_000, 'timeout' as const, { ref: false });
  const result = await Promise.race([exited, exitTimeout]);
  if (result === 'timeout') {
    server.kill('SIGKILL');
    throw new Error('the recording run did not exit within 2 minutes');
  }
  if (!existsSync(testServerArchivePath)) throw new Error(`the JVM wrote no archive:\n${output}`);
  return true;
}

/** The workflow-service calls a time-skipping test makes, so their classes land in the archive. */
async function exerciseServer(address: string): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const connection = await connectWithin(address, 60_000, Connection);
  try {
    const namespace = 'default';
    const workflowId = 'class-archive-warm-up';
    const service = connection.workflowService;
    await service.startWorkflowExecution({
      namespace,
      workflowId,
      requestId: workflowId,
      workflowType: { name: 'WarmUp' },
      taskQueue: { name: 'warm-up' },
    });
    await service.describeWorkflowExecution({ namespace, execution: { workflowId } });
    await service.getWorkflowExecutionHistory({ namespace, execution: { workflowId } });
    await service.terminateWorkflowExecution({ namespace, workflowExecution: { workflowId }, reason: 'warm-up' });
  } finally {
    await connection.close();
  }
}

async function connectWithin(address: string, timeoutMs: number, Connection: typeof TemporalConnection) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await Connection.connect({ address, connectTimeout: '2s' });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`test server at ${address} did not answer: ${String(error)}`);
      await delay(200);
    }
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
