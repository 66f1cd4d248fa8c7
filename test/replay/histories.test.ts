import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { payloadCodecFromEnv, pledgeDataConverter } from '../../codec/data-converter';
import { repoRoot } from '../../scripts/toolchain/paths';
import * as workflows from '../../workflows';
import { bundleWorkflows } from '../support/temporal';

// Recorded histories of real runs (scripts/record-history.ts). A change to workflow code that
// would break cases already running fails here with a non-determinism error.
const historiesDir = join(repoRoot, 'test', 'histories');
const histories = readdirSync(historiesDir).filter((name) => name.endsWith('.json'));
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await bundleWorkflows();
});

describe('recorded workflow histories replay on the current code', () => {
  it('has a recorded history for every workflow type', () => {
    // Every workflow workflows/index.ts exports; a new one needs a scenario in scripts/record-history.ts.
    const workflowTypes = Object.keys(workflows).sort();
    expect(workflowTypes).toEqual(['compensation', 'complaint', 'dataRequest', 'incident', 'incidentFanout', 'renewalNotice', 'retentionPurge', 'serviceChange', 'termination']);
    const recorded = new Set(histories.map((name) => name.split('-')[0]));
    expect(workflowTypes.filter((type) => !recorded.has(type))).toEqual([]);
  });

  it('has the runtime patches recorded both ways', () => {
    // case-runtime-due-wake-ups-at-once (issue 15): a run from before the patch (a 60-s back-off) and one after (its marker).
    expect(histories).toEqual(expect.arrayContaining(['complaint-breach-backed-off-before-patch.json', 'complaint-breach-due-while-warning-recorded.json']));
  });

  it.each(histories)('%s', async (name) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(historiesDir, name), 'utf8')));
    expect(history.events?.length).toBeGreaterThan(10);
    // D5: through the payload codec, as the worker runs; histories recorded before encryption pass through it unchanged.
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: pledgeDataConverter(payloadCodecFromEnv()) }, history, name);
  });
});
