import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FieldIssue } from '../domain/case-actions';
import type { CaseAction, CaseState } from '../domain/case-state';
import { caseTypeOfCaseId, caseWorkflowId } from '../domain/case-types';
import { actionFailureTypes, actUpdate, stateQuery } from '../workflows/protocol';
import { ApiError } from './errors';

/** The workflow behind a case number; a number that names no case type is a 404 like any other. */
export function caseHandle(temporal: Client, caseId: string): WorkflowHandle {
  const type = caseTypeOfCaseId(caseId);
  if (!type) throw new ApiError(404, 'case_not_found', `no case ${caseId}: case numbers look like CMP-2026-000042`);
  return temporal.workflow.getHandle(caseWorkflowId(type, caseId));
}

export async function readCaseState(temporal: Client, caseId: string): Promise<CaseState> {
  try {
    return await caseHandle(temporal, caseId).query(stateQuery);
  } catch (error) {
    throw notFoundOr(error, caseId);
  }
}

const refusalStatus = {
  [actionFailureTypes.unknownAction]: [422, 'unknown_action'],
  [actionFailureTypes.forbidden]: [403, 'forbidden'],
  [actionFailureTypes.invalidInput]: [422, 'invalid_request'],
  [actionFailureTypes.refused]: [409, 'action_refused'],
  StepFailed: [500, 'step_failed'],
} as const;

/**
 * Runs the `act` update; the workflow's validator decides, and its refusal becomes a 4xx. With an
 * update id (from the Idempotency-Key) a retry returns the first result and repeats nothing.
 */
export async function actOnCase(temporal: Client, caseId: string, action: CaseAction, updateId?: string): Promise<CaseState> {
  try {
    return await caseHandle(temporal, caseId).executeUpdate(actUpdate, { args: [action], ...(updateId ? { updateId } : {}) });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const mapped = refusalStatus[error.cause.type as keyof typeof refusalStatus];
      if (mapped) {
        const fields = (error.cause.details?.[0] as FieldIssue[] | undefined) ?? undefined;
        throw new ApiError(mapped[0], mapped[1], error.cause.message, fields);
      }
    }
    if (error instanceof WorkflowNotFoundError) throw await closedOrMissing(temporal, caseId);
    throw error;
  }
}

/** A finished case takes no actions: 409 with its final status, rather than a misleading 404. */
async function closedOrMissing(temporal: Client, caseId: string): Promise<ApiError> {
  try {
    const description = await caseHandle(temporal, caseId).describe();
    if (description.status.name !== 'RUNNING') {
      return new ApiError(409, 'case_closed', `case ${caseId} is closed (${description.status.name.toLowerCase()}); no action can change it`);
    }
  } catch {
    // fall through: the workflow does not exist
  }
  return new ApiError(404, 'case_not_found', `no case ${caseId}`);
}

function notFoundOr(error: unknown, caseId: string): unknown {
  if (error instanceof WorkflowNotFoundError) return new ApiError(404, 'case_not_found', `no case ${caseId}`);
  return error;
}
