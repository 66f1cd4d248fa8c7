import { createHash } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { customerPseudonym } from '../codec/pseudonym';
import { caseWorkflowId, formatCaseId, type CaseType } from '../domain/case-types';
import type { CaseState } from '../domain/case-state';
import { nextCaseNumber } from '../db/case-numbers';
import { findRecordedCaseState } from '../db/cases';
import { claimIdempotencyKey, findIdempotencyKey } from '../db/idempotency-keys';
import type { Sql } from '../db/sql';
import { noteCase } from '../observability/logger';
import { openedUpdate } from '../workflows/protocol';
import { caseStaticSummary, initialCaseSearchAttributes } from '../workflows/search-attributes';
import { ApiError } from './errors';

export interface OpenCaseRequest {
  type: CaseType;
  /** The workflow that runs the case when its name is not the case type ('service-change' runs as `serviceChange` or `renewalNotice`). */
  workflowType?: string;
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

export interface OpenedCase {
  state: CaseState;
  /** A retry of an earlier request (same Idempotency-Key and body): the same case, nothing started again. */
  replayed: boolean;
}

/**
 * Gives a case its number at once (C1) and opens it exactly once, answering with the state as it
 * was recorded at intake: the workflow is started with an update (`opened`) that returns only once
 * intake is recorded, so the 201 always carries the deadlines and every read route already shows
 * the case. The number is tied to the Idempotency-Key in Postgres and the workflow id derives from
 * it, so a retried or concurrent request finds the same case.
 */
export async function openCase(deps: { temporal: Client; sql: Sql; taskQueue: string; timeZone: string }, request: OpenCaseRequest): Promise<OpenedCase> {
  const requestHash = createHash('sha256').update(JSON.stringify(request.body)).digest('hex');
  const { caseId, replayed } = await allocateCaseId(deps, request, requestHash);
  const workflowId = caseWorkflowId(request.type, caseId);
  noteCase(caseId, workflowId);
  if (replayed) {
    // A case whose workflow has closed, or left Temporal, is answered from its record, never started again.
    const recorded = await findRecordedCaseState(deps.sql, caseId);
    if (recorded) return { state: await liveOr(deps.temporal, workflowId, recorded), replayed };
  }
  const startWorkflowOperation = new WithStartWorkflowOperation(request.workflowType ?? request.type, {
    taskQueue: deps.taskQueue,
    workflowId,
    args: [request.buildInput(caseId)],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // D5: search attributes are indexed in the clear (no codec reaches them): the customer appears only as a keyed pseudonym.
    typedSearchAttributes: initialCaseSearchAttributes({ type: request.type, customerId: request.customerId && customerPseudonym(request.customerId), priority: request.priority }),
    staticSummary: caseStaticSummary(request.type, caseId, request.title),
  });
  try {
    const state = await deps.temporal.workflow.executeUpdateWithStart(openedUpdate, { startWorkflowOperation });
    return { state, replayed };
  } catch (error) {
    // A retried request racing its case's close: the case exists; its record answers.
    const recorded = replayed && error instanceof WorkflowExecutionAlreadyStartedError ? await findRecordedCaseState(deps.sql, caseId) : undefined;
    if (recorded) return { state: recorded, replayed };
    throw error;
  }
}

async function liveOr(temporal: Client, workflowId: string, recorded: CaseState): Promise<CaseState> {
  try {
    return await temporal.workflow.getHandle(workflowId).query<CaseState>('state');
  } catch {
    return recorded;
  }
}

async function allocateCaseId(deps: { sql: Sql; timeZone: string }, request: OpenCaseRequest, requestHash: string): Promise<{ caseId: string; replayed: boolean }> {
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: deps.timeZone, year: 'numeric' }).format(new Date()));
  const fresh = async () => formatCaseId(request.type, year, await nextCaseNumber(deps.sql));
  if (!request.idempotencyKey) return { caseId: await fresh(), replayed: false };
  const scope = request.type;
  const existing = await findIdempotencyKey(deps.sql, scope, request.idempotencyKey);
  const held = existing ?? (await claimIdempotencyKey(deps.sql, { scope, key: request.idempotencyKey, requestHash, caseId: await fresh() }));
  if (held.requestHash !== requestHash) {
    throw new ApiError(422, 'idempotency_key_reused', `Idempotency-Key '${request.idempotencyKey}' was already used for a different request (case ${held.caseId})`, [
      { field: 'Idempotency-Key', message: 'reused with a different body' },
    ]);
  }
  return { caseId: held.caseId, replayed: !('claimed' in held && held.claimed) };
}
