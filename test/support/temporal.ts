import protos from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath, payloadCodecFromEnv, pledgeDataConverter } from '../../codec/data-converter';
import { timeSkippingServer } from '../../scripts/toolchain/test-server';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { workflowsPath } from '../../worker/worker';

const { IndexedValueType } = protos.temporal.api.enums.v1;
const indexedValueTypes = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/**
 * The real time-skipping test server (the Java one from Maven when the toolchain has it), with
 * Pledge's search attributes; its client encrypts and decrypts like the Pledge worker does (D5).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: timeSkippingServer() }, client: { dataConverter: pledgeDataConverter(payloadCodecFromEnv()) } });
  const searchAttributes = Object.fromEntries(Object.entries(searchAttributeRegistrations).map(([name, type]) => [name, indexedValueTypes[type]]));
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
  return env;
}

/** Bundling takes seconds: each test file bundles once and shares the result. Failures are encoded as in production (D5). */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never });
}
