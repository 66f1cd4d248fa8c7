import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBinary } from '../../scripts/toolchain/alertmanager';
import { eventually, seedRegion } from '../support/incidents';
import { devKeys, startStack, type RunningStack } from '../support/stack';

// A real client (O1, O2, O7): Prometheus Alertmanager (ALERTMANAGER_BIN, else the toolchain's Go
// build, else Debian's prometheus-alertmanager; the flags below are the same in both), configured
// with a webhook receiver pointing at the API with a bearer token, fed alerts through its own API.
const alertmanagerPort = 19093;
const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
let stack: RunningStack;
let alertmanager: ChildProcess;
let workDir: string;
let alertmanagerOutput = '';

/** The receiver configuration the README documents, with the test's URL. */
function alertmanagerConfig(pledgeUrl: string): string {
  return `
route:
  receiver: pledge
  group_by: ['alertname', 'region']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: pledge
    webhook_configs:
      - url: ${pledgeUrl}/v1/alerts/alertmanager
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: ${devKeys.alertSource}
`;
}

beforeAll(async () => {
  const alertmanagerBin = alertmanagerBinary();
  stack = await startStack({ postgres: 55443, temporal: 17241, temporalUi: 18241 }, 'pledge-incident-alertmanager');
  await seedRegion(stack.db.sql, 'east', 'am-east', 5);
  workDir = mkdtempSync(join(tmpdir(), 'pledge-alertmanager-'));
  writeFileSync(join(workDir, 'alertmanager.yml'), alertmanagerConfig(stack.baseUrl));
  alertmanager = spawn(
    alertmanagerBin,
    [
      `--config.file=${join(workDir, 'alertmanager.yml')}`,
      `--storage.path=${join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  alertmanager.stdout?.on('data', (chunk) => (alertmanagerOutput += chunk));
  alertmanager.stderr?.on('data', (chunk) => (alertmanagerOutput += chunk));
  // Fails at once, rather than after the readiness timeout, if the binary cannot start or exits early.
  let ended = false;
  const endedEarly = new Promise<never>((_, reject) => {
    alertmanager.once('error', (error) => {
      ended = true;
      reject(new Error(`could not start ${alertmanagerBin}: ${error.message}`));
    });
    // 'close' comes after 'exit' once stdout and stderr are drained, so the output is complete.
    alertmanager.once('close', (code, signal) => {
      ended = true;
      reject(new Error(`${alertmanagerBin} exited early (code ${code}, signal ${signal}):\n${alertmanagerOutput}`));
    });
  });
  endedEarly.catch(() => {}); // only raced below; the exit that afterAll causes is expected
  const ready = await Promise.race([
    eventually(
      () =>
        fetch(`${alertmanagerUrl}/-/ready`).then(
          (response) => response.ok,
          () => false,
        ),
      (ok) => ok || ended,
      20_000,
    ),
    endedEarly,
  ]);
  if (!ready) throw new Error(`${alertmanagerBin} did not become ready in 20 s:\n${alertmanagerOutput}`);
});

afterAll(async () => {
  // Runs even when beforeAll threw half-way: each step only undoes what was started.
  if (alertmanager?.pid !== undefined && alertmanager.exitCode === null && alertmanager.signalCode === null) {
    const exited = new Promise((resolve) => alertmanager.once('exit', resolve));
    alertmanager.kill('SIGTERM');
    const killLater = setTimeout(() => alertmanager.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killLater);
  }
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function pushAlerts(alerts: unknown[]): Promise<void> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(response.status).toBe(200);
}

describe('Prometheus Alertmanager against Pledge', () => {
  it('O1, O2, O7: two alerts of one group open exactly one incident, and ending them resolves it', async () => {
    const startsAt = new Date(Date.now() - 45 * 60_000).toISOString();
    const alert = (instance: string, endsAt?: string) => ({
      labels: { alertname: 'FibreCut', region: 'am-east', service: 'broadband', severity: 'major', instance },
      annotations: { summary: 'Fibre cut in am-east', description: 'Broadband is down in am-east; engineers dispatched.' },
      startsAt,
      ...(endsAt ? { endsAt } : {}),
      generatorURL: 'http://prometheus.example/graph',
    });
    await pushAlerts([alert('olt-1'), alert('olt-2')]);

    const opened = await eventually(
      () => stack.db.sql<{ case_id: string; dedup_key: string }[]>`select case_id, dedup_key from incident_alert_groups`,
      (rows) => rows.length > 0,
      20_000,
    );
    expect(opened, alertmanagerOutput).toHaveLength(1);
    const caseId = opened[0]!.case_id;
    expect(opened[0]!.dedup_key).toMatch(/^alertmanager\|.*alertname="FibreCut".*region="am-east"/);
    const open = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: devKeys.auditor }),
      (answer) => answer.status === 200 && answer.body.details.alerts.firing === 2 && answer.body.details.affectedCount === 5,
      20_000,
    );
    expect(open.body).toMatchObject({ status: 'open', priority: 'SEV2' });
    expect(open.body.details).toMatchObject({ startedAt: new Date(startsAt).toISOString(), affectedCount: 5 });
    expect(open.body.summary).toBe('Fibre cut in am-east');

    await pushAlerts([alert('olt-1', new Date(Date.now() - 1000).toISOString()), alert('olt-2', new Date(Date.now() - 1000).toISOString())]);
    const resolved = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: devKeys.auditor }),
      (answer) => answer.body.status === 'resolved' && answer.body.details.recovery.completedAt !== null,
      30_000,
    );
    expect(resolved.body.status, alertmanagerOutput).toBe('resolved');
    expect(resolved.body.details.resolution).toMatchObject({ via: 'alerts' });
    expect(resolved.body.details.recovery).toMatchObject({ customers: 5, remediesPaid: 5 });
    const [groups] = await stack.db.sql`select count(*)::int as n, count(closed_at)::int as closed from incident_alert_groups`;
    expect(groups).toEqual({ n: 1, closed: 1 });
    const [ledger] = await stack.db.sql`select count(*)::int as n from ledger where case_id = ${caseId}`;
    expect(ledger!.n).toBe(5);
  });
});
