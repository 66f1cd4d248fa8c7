import type { ActionTable } from './case-actions';
import type { CaseType } from './case-types';
import { claimActions } from './claim';
import { complaintActions } from './complaint';
import { incidentActions } from './incident';
import { serviceChangeActions } from './service-change';
import { terminationActions } from './termination';
import { dataRequestActions } from './data-request';

/** The actions of each case type that has landed; the API checks requests against them early. */
export const actionTables: Partial<Record<CaseType, ActionTable<string>>> = {
  complaint: complaintActions,
  incident: incidentActions,
  compensation: claimActions,
  // Renewal notices are service-change cases too; their actions (cancel, note) take the same inputs.
  'service-change': serviceChangeActions,
  termination: terminationActions,
  'data-request': dataRequestActions,
};
