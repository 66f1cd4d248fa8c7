/**
 * `npm test`: makes sure the toolchain the tests run on is here (Temporal CLI, time-skipping test
 * server, Alertmanager), then runs vitest in a process group of its own. Whatever the outcome — a
 * failure, Ctrl-C, a hang past the time limit — nothing the tests started is left running: leftovers
 * are named, killed, and fail the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { killProcessGroup, processGroupMembers } from './lib/process-group';
import { ensureToolchain } from './toolchain/ensure';
import { dataDir, repoRoot } from './toolchain/paths';

const timeLimitMinutes = Number(process.env.PLEDGE_TEST_TIME_LIMIT_MINUTES ?? 30);

try {
  await ensureToolchain({ forTests: true });
} catch (error) {
  console.error(`npm test: the toolchain is not ready — ${(error as Error).message}`);
  process.exit(1);
}

// Vitest's JSON report gives the counts of the closing line; screenshots and other test output live beside it.
const outputDir = join(dataDir, 'test-output');
const reportPath = join(outputDir, 'vitest.json');
mkdirSync(outputDir, { recursive: true });
rmSync(reportPath, { force: true });
const vitestArgs = ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`, ...process.argv.slice(2)];
const vitest = spawn(process.execPath, vitestArgs, { cwd: repoRoot, stdio: 'inherit', detached: true });
const groupId = vitest.pid!;
let verdict: string | undefined;
const forward = (signal: NodeJS.Signals) => () => {
  verdict ??= `interrupted by ${signal}`;
  killProcessGroup(groupId, signal);
};
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));
const limit = setTimeout(() => {
  verdict = `vitest did not finish within ${timeLimitMinutes} minutes (PLEDGE_TEST_TIME_LIMIT_MINUTES); stopped it`;
  killProcessGroup(groupId, 'SIGKILL');
}, timeLimitMinutes * 60_000);

const exitCode = await new Promise<number>((resolve) => {
  vitest.once('error', (error) => {
    verdict = `could not run vitest: ${error.message} (run npm ci)`;
    resolve(1);
  });
  vitest.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});
clearTimeout(limit);

// Servers get a moment to finish stopping; anything still in the group after that was left behind.
let leftovers = processGroupMembers(groupId);
for (let waited = 0; leftovers.length > 0 && waited < 5_000; waited += 250) {
  await delay(250);
  leftovers = processGroupMembers(groupId);
}
if (leftovers.length > 0) {
  killProcessGroup(groupId, 'SIGKILL');
  console.error(`npm test: the tests left ${leftovers.length} process(es) running, now killed:\n${leftovers.map((member) => `  ${member.pid} ${member.command}`).join('\n')}`);
}
if (verdict) console.error(`npm test: ${verdict}`);
const { passed, failed } = countTests(reportPath);
if (passed === 0) console.error('npm test: no test passed (none ran, or vitest wrote no report)');
// The run's record reads this plain line, alone and last (vitest's own summary is not read).
console.log(`tests: ${passed} passed, ${failed} failed`);
const failedRun = exitCode !== 0 || verdict !== undefined || leftovers.length > 0 || failed > 0 || passed === 0;
process.exit(failedRun ? exitCode || 1 : 0);

/** Passed and failed tests from vitest's JSON report; a file that failed to load counts as one failed test. */
function countTests(path: string): { passed: number; failed: number } {
  if (!existsSync(path)) return { passed: 0, failed: 0 };
  const report = JSON.parse(readFileSync(path, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    testResults: Array<{ status: string; assertionResults: unknown[] }>;
  };
  const filesThatNeverRan = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
  return { passed: report.numPassedTests, failed: report.numFailedTests + filesThatNeverRan };
}
