import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseAction, CaseState } from '../domain/case-state';
import type { WorkingCalendar } from '../domain/working-calendar';

/**
 * The case protocol every case workflow speaks, so the API has one way to read a case and one
 * way to act on it, whatever its type.
 */
export const stateQuery = defineQuery<CaseState>('state');
export const actUpdate = defineUpdate<CaseState, [CaseAction]>('act');

/** An operator loaded calendar data: cases with provisional working-day deadlines recompute them. */
export const calendarUpdatedSignal = defineSignal<[WorkingCalendar]>('calendarUpdated');

/** Failure types an `act` validator throws; the API maps them to 4xx answers. */
export const actionFailureTypes = {
  unknownAction: 'UnknownAction',
  forbidden: 'ActionForbidden',
  invalidInput: 'InvalidActionInput',
  refused: 'ActionRefused',
} as const;
