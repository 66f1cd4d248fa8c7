import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './paths';

export const temporalCliVersion = '1.5.1';

const binDir = join(cacheDir, 'bin');
const cachedCliPath = join(binDir, 'temporal');
const runFile = promisify(execFile);

/**
 * A Temporal CLI binary of the pinned version: `TEMPORAL_CLI`, else the cached build, else one
 * built now with Go. Undefined when none can be had, so callers use the SDK's own download.
 */
export async function ensureTemporalCli(log: (msg: string) => void = console.log): Promise<string | undefined> {
  const override = process.env.TEMPORAL_CLI;
  if (override) {
    if (!existsSync(override)) throw new Error(`TEMPORAL_CLI is set to ${override}, which does not exist`);
    return override;
  }
  if (await reportsPinnedVersion(cachedCliPath)) return cachedCliPath;
  if (!commandOnPath('go')) {
    log(`Temporal CLI: no cached build at ${cachedCliPath} and no Go toolchain to build one`);
    return undefined;
  }
  log(`Temporal CLI: building v${temporalCliVersion} with Go into ${binDir} (the first build takes several minutes)`);
  await goInstallCli();
  if (!(await reportsPinnedVersion(cachedCliPath))) {
    throw new Error(`go install finished but ${cachedCliPath} does not report version ${temporalCliVersion}`);
  }
  return cachedCliPath;
}

async function goInstallCli(): Promise<void> {
  // `go install` leaves the CLI's version string at 0.0.0-DEV; the release builds stamp it like this.
  const stampVersion = `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${temporalCliVersion}`;
  const args = ['install', stampVersion, `github.com/temporalio/cli/cmd/temporal@v${temporalCliVersion}`];
  const build = spawn('go', args, { env: { ...process.env, GOBIN: binDir }, stdio: ['ignore', 'inherit', 'inherit'] });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    build.on('error', reject);
    build.on('exit', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(
      `building the Temporal CLI failed (go install exited with ${exitCode}; output above): check that the Go module proxy is reachable, or set TEMPORAL_CLI to a temporal ${temporalCliVersion} binary`,
    );
  }
}

async function reportsPinnedVersion(cliPath: string): Promise<boolean> {
  if (!existsSync(cliPath)) return false;
  try {
    const { stdout } = await runFile(cliPath, ['--version'], { timeout: 10_000 });
    return stdout.includes(`temporal version ${temporalCliVersion} `);
  } catch {
    return false;
  }
}

export function commandOnPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
