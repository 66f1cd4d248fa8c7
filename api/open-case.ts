import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type postgres from 'postgres';
import type { CaseType } from '../domain/case-types';
import { caseWorkflowId, formatCaseId } from '../domain/case-types';
import { caseStaticSummary, initialCaseSearchAttributes } from '../workflows/search-attributes';
import { ApiError } from './errors';

export interface OpenCaseRequest {
  type: CaseType;
  /** The request body as validated; hashed so a reused Idempotency-Key with another body is refused. */
  body: unknown;
  idempotencyKey?: string;
  /** Null for cases that concern no single customer (incidents). */
  customerId: string | null;
  priority: string | null;
  /** One human line for the Temporal UI's workflow list. */
  title: string;
  buildInput(caseId: string): unknown;
}

/**
 * Gives a case its number at once (C1) and starts its workflow exactly once: the number is tied to
 * the Idempotency-Key in Postgres, and the workflow id is derived from the number, so a retried or
 * concurrent request finds the same case and the start itself is idempotent.
 */
export async function openCase(deps: { temporal: Client; sql: postgres.Sql; taskQueue: string; timeZone: string }, request: OpenCaseRequest) {
  const requestHash = createHash('sha256').update(JSON.stringify(request.body)).digest('hex');
  const caseId = await allocateCaseId(deps, request, requestHash);
  const workflowId = caseWorkflowId(request.type, caseId.caseId);
  // A retried request finds its case; it starts the workflow only if the first attempt never got that
  // far (no record yet), so a case whose workflow has closed, or left Temporal, never starts twice.
  const recorded = caseId.replayed && (await deps.sql`select 1 from cases where case_id = ${caseId.caseId}`).length > 0;
  if (recorded) return { caseId: caseId.caseId, workflowId, replayed: true };
  try {
    await deps.temporal.workflow.start(request.type, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [request.buildInput(caseId.caseId)],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: initialCaseSearchAttributes({ type: request.type, customerId: request.customerId, priority: request.priority }),
      staticSummary: caseStaticSummary(request.type, caseId.caseId, request.title),
    });
  } catch (error) {
    // A retried request racing its case's close: the case exists, nothing is started again.
    if (!(caseId.replayed && error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return { caseId: caseId.caseId, workflowId, replayed: caseId.replayed };
}

async function allocateCaseId(
  deps: { sql: postgres.Sql; timeZone: string },
  request: OpenCaseRequest,
  requestHash: string,
): Promise<{ caseId: string; replayed: boolean }> {
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: deps.timeZone, year: 'numeric' }).format(new Date()));
  const fresh = async () => {
    const [row] = await deps.sql<{ n: string }[]>`select nextval('case_number_seq') as n`;
    return formatCaseId(request.type, year, Number(row!.n));
  };
  if (!request.idempotencyKey) return { caseId: await fresh(), replayed: false };

  const scope = request.type;
  const existing = async () => {
    const [row] = await deps.sql<{ case_id: string; request_hash: string }[]>`
      select case_id, request_hash from idempotency_keys where scope = ${scope} and key = ${request.idempotencyKey!}`;
    return row;
  };
  let row = await existing();
  if (!row) {
    const candidate = await fresh();
    await deps.sql`
      insert into idempotency_keys (scope, key, request_hash, case_id)
      values (${scope}, ${request.idempotencyKey}, ${requestHash}, ${candidate})
      on conflict (scope, key) do nothing`;
    row = await existing();
    if (row?.case_id === candidate) return { caseId: candidate, replayed: false };
  }
  if (!row) throw new Error('idempotency key vanished while opening a case');
  if (row.request_hash !== requestHash) {
    throw new ApiError(422, 'idempotency_key_reused', `Idempotency-Key '${request.idempotencyKey}' was already used for a different request (case ${row.case_id})`, [
      { field: 'Idempotency-Key', message: 'reused with a different body' },
    ]);
  }
  return { caseId: row.case_id, replayed: true };
}
