import { ApplicationFailure, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActionCheck } from '../domain/case-actions';
import type { CaseAction, CaseState } from '../domain/case-state';
import type { WorkingCalendar } from '../domain/working-calendar';

/**
 * The case protocol every case workflow speaks, so the API has one way to read a case and one
 * way to act on it, whatever its type.
 */
export const stateQuery = defineQuery<CaseState>('state');
export const actUpdate = defineUpdate<CaseState, [CaseAction]>('act');
/** Answers once the case's intake is recorded: the API opens a case with update-with-start on it. */
export const openedUpdate = defineUpdate<CaseState>('opened');

/** An operator loaded calendar data: cases with provisional working-day deadlines recompute them. */
export const calendarUpdatedSignal = defineSignal<[WorkingCalendar]>('calendarUpdated');

/** Failure types an `act` validator throws; the API maps them to 4xx answers. */
export const actionFailureTypes = {
  unknownAction: 'UnknownAction',
  forbidden: 'ActionForbidden',
  invalidInput: 'InvalidActionInput',
  refused: 'ActionRefused',
} as const;

const failureTypeOf = {
  'unknown-action': actionFailureTypes.unknownAction,
  forbidden: actionFailureTypes.forbidden,
  'invalid-input': actionFailureTypes.invalidInput,
  refused: actionFailureTypes.refused,
} as const;

/** For `act` validators: the parsed input of an allowed action, or the failure the API turns into a 4xx. */
export function allowedInputOrThrow(checked: ActionCheck): Record<string, unknown> {
  if (checked.ok) return checked.input;
  throw ApplicationFailure.create({ type: failureTypeOf[checked.kind], message: checked.message, details: checked.fields ? [checked.fields] : [], nonRetryable: true });
}

export function refuseAction(message: string): never {
  throw ApplicationFailure.create({ type: actionFailureTypes.refused, message, nonRetryable: true });
}
