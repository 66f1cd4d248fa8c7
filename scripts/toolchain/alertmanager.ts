import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './paths';
import { commandOnPath } from './temporal-cli';

/**
 * The newest Alertmanager that `go install` can build from the module proxy: from v0.32.0 on,
 * ui/web.go embeds ui/app/dist, a directory the release process generates and the module zip
 * does not hold, so `go install ...@v0.32+` fails with "pattern app/dist: no matching files found".
 * v0.31.1 still ships its UI as generated Go source (asset/assets_vfsdata.go).
 */
export const alertmanagerVersion = '0.31.1';

/** Where Debian's prometheus-alertmanager package (0.25 here) puts the same program, with the same flags. */
export const debianAlertmanagerPath = '/usr/bin/prometheus-alertmanager';

const binDir = join(cacheDir, 'bin');
const cachedAlertmanagerPath = join(binDir, 'alertmanager');
const runFile = promisify(execFile);

/**
 * An Alertmanager binary for the tests: `ALERTMANAGER_BIN`, else the cached build of the pinned
 * version, else Debian's package, else one built now with Go. Throws when none can be had,
 * because the tests have no other way to get one.
 */
export async function ensureAlertmanager(log: (msg: string) => void = console.log): Promise<string> {
  const override = overridePath();
  if (override) return override;
  if (await reportsPinnedVersion(cachedAlertmanagerPath)) return cachedAlertmanagerPath;
  if (isExecutable(debianAlertmanagerPath)) return debianAlertmanagerPath;
  if (!commandOnPath('go')) {
    throw new Error(
      `Alertmanager is needed by the tests and there is none: install Go (to build v${alertmanagerVersion} into ${binDir}), ` +
        'or apt-get install prometheus-alertmanager, or set ALERTMANAGER_BIN to an alertmanager binary',
    );
  }
  log(`Alertmanager: building v${alertmanagerVersion} with Go into ${binDir} (about a minute on 2 cores)`);
  await goInstallAlertmanager();
  if (!(await reportsPinnedVersion(cachedAlertmanagerPath))) {
    throw new Error(`go install finished but ${cachedAlertmanagerPath} does not report version ${alertmanagerVersion}`);
  }
  return cachedAlertmanagerPath;
}

/**
 * For test setup, after `scripts/toolchain/ensure.ts --for-tests` has run: the same choice as
 * ensureAlertmanager, without building anything.
 */
export function alertmanagerBinary(): string {
  const override = overridePath();
  if (override) return override;
  if (reportsPinnedVersionSync(cachedAlertmanagerPath)) return cachedAlertmanagerPath;
  if (isExecutable(debianAlertmanagerPath)) return debianAlertmanagerPath;
  throw new Error(
    `no Alertmanager: neither ${cachedAlertmanagerPath} (v${alertmanagerVersion}) nor ${debianAlertmanagerPath} exists and ALERTMANAGER_BIN is unset; ` +
      'run `npx tsx scripts/toolchain/ensure.ts --for-tests` (or `npm test`, which runs it)',
  );
}

function overridePath(): string | undefined {
  const override = process.env.ALERTMANAGER_BIN;
  if (!override) return undefined;
  if (!existsSync(override)) throw new Error(`ALERTMANAGER_BIN is set to ${override}, which does not exist`);
  return override;
}

async function goInstallAlertmanager(): Promise<void> {
  // `go install` leaves the version empty; release builds (.promu.yml) stamp it, and the netgo tag, like this.
  const stampVersion = `-ldflags=-s -w -X github.com/prometheus/common/version.Version=${alertmanagerVersion}`;
  const args = ['install', '-tags=netgo', stampVersion, `github.com/prometheus/alertmanager/cmd/alertmanager@v${alertmanagerVersion}`];
  const build = spawn('go', args, { env: { ...process.env, GOBIN: binDir }, stdio: ['ignore', 'inherit', 'inherit'] });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    build.on('error', reject);
    build.on('exit', resolve);
  });
  if (exitCode !== 0) throw new Error(`go ${args.join(' ')} exited with ${exitCode}`);
}

/** `alertmanager --version` prints "alertmanager, version 0.31.1 (branch: ..., revision: ...)". */
const pinnedVersionLine = `alertmanager, version ${alertmanagerVersion} `;

async function reportsPinnedVersion(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const { stdout } = await runFile(path, ['--version'], { timeout: 10_000 });
    return stdout.includes(pinnedVersionLine);
  } catch {
    return false;
  }
}

function reportsPinnedVersionSync(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    return execFileSync(path, ['--version'], { timeout: 10_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes(pinnedVersionLine);
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
