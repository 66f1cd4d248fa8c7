import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import type { StaffRole } from '../domain/actors';
import type { DeploymentPolicies } from '../domain/sla-policy';
import type { AuthThrottleOptions } from './auth-throttle';

/** Everything the API is built from; tests pass their own. */
export interface ApiDeps {
  temporal: Client;
  sql: postgres.Sql;
  apiKeys: ReadonlyMap<string, StaffRole>;
  policies: DeploymentPolicies;
  taskQueue: string;
  /** D9: when repeated failed authentication is slowed and refused (defaults in api/auth-throttle.ts). */
  authThrottle?: AuthThrottleOptions;
}
