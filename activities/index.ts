import type postgres from 'postgres';
import { createCaseRecordActivities } from './case-records';
import { createClaimActivities } from './claims';
import { createDataRequestActivities } from './data-requests';
import { withFailureClassification, type FailureLog } from './failures';
import { createIncidentActivities } from './incidents';
import { createServiceChangeActivities } from './service-changes';
import { createTerminationActivities } from './terminations';

export interface ActivityDeps {
  sql: postgres.Sql;
  /** Where non-retryable failures are logged, one JSON line each; console.error by default. */
  log?: FailureLog;
}

/**
 * Every activity the worker registers, built from its dependencies. Each fails for good on errors
 * no retry can fix (SQLSTATE classes 22 and 23, template errors) and is retried on any other.
 */
export function createActivities(deps: ActivityDeps) {
  return withFailureClassification(
    {
      ...createCaseRecordActivities(deps.sql),
      ...createIncidentActivities(deps.sql),
      ...createClaimActivities(deps.sql),
      ...createServiceChangeActivities(deps.sql),
      ...createTerminationActivities(deps.sql),
      ...createDataRequestActivities(deps.sql),
    },
    deps.log,
  );
}
