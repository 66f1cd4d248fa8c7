import { fileURLToPath } from 'node:url';
import { alertmanagerVersion, ensureAlertmanager } from './alertmanager';
import { ensureTemporalCli, temporalCliVersion } from './temporal-cli';
import { ensureTestServer, testServerVersion } from './test-server';

interface Tool {
  name: string;
  ensure: (log: (msg: string) => void) => Promise<string | undefined>;
}

const temporalCli: Tool = { name: `Temporal CLI ${temporalCliVersion}`, ensure: ensureTemporalCli };
const testServer: Tool = { name: `time-skipping test server ${testServerVersion}`, ensure: ensureTestServer };
const alertmanager: Tool = { name: `Alertmanager ${alertmanagerVersion}`, ensure: ensureAlertmanager };

/**
 * Fetches or builds what the stack (and with `forTests`, the tests) run on. A Temporal tool that
 * cannot be had here is only a warning, because the SDK can still download its own copy;
 * Alertmanager has no such fallback, so its ensure throws instead. A tool that fails while being
 * installed is an error.
 */
export async function ensureToolchain(options: { forTests: boolean }): Promise<void> {
  const tools = options.forTests ? [temporalCli, testServer, alertmanager] : [temporalCli];
  for (const tool of tools) {
    const started = performance.now();
    const path = await tool.ensure((msg) => console.log(`  ${msg}`));
    const took = `${((performance.now() - started) / 1000).toFixed(1)}s`;
    if (path) console.log(`${tool.name}: ${path} (${took})`);
    else console.warn(`${tool.name}: not available here; the Temporal SDK will try to download its own (${took})`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureToolchain({ forTests: process.argv.includes('--for-tests') }).catch((error: Error) => {
    console.error(`toolchain: ${error.message}`);
    process.exit(1);
  });
}
