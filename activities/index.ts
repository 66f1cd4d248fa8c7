import type postgres from 'postgres';
import { createCaseRecordActivities } from './case-records';
import { createIncidentActivities } from './incidents';

export interface ActivityDeps {
  sql: postgres.Sql;
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createCaseRecordActivities(deps.sql),
    ...createIncidentActivities(deps.sql),
  };
}
