import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import type { StaffRole } from '../domain/actors';
import type { DeploymentPolicies } from '../domain/sla-policy';

/** Everything the API is built from; tests pass their own. */
export interface ApiDeps {
  temporal: Client;
  sql: postgres.Sql;
  apiKeys: ReadonlyMap<string, StaffRole>;
  policies: DeploymentPolicies;
  taskQueue: string;
}
