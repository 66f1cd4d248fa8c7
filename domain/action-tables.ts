import type { ActionTable } from './case-actions';
import type { CaseType } from './case-types';
import { claimActions } from './claim';
import { complaintActions } from './complaint';
import { incidentActions } from './incident';

/** The actions of each case type that has landed; the API checks requests against them early. */
export const actionTables: Partial<Record<CaseType, ActionTable<string>>> = {
  complaint: complaintActions,
  incident: incidentActions,
  compensation: claimActions,
};
