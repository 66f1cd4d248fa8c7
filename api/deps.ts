import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type postgres from 'postgres';
import type { StaffRole } from '../domain/actors';
import type { DeploymentPolicies } from '../domain/sla-policy';
import type { Logger } from '../observability/logger';
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
  /** D5: the codec the Temporal UI's codec endpoint uses; the deployment's keys (codec/keys.ts) when absent. */
  payloadCodec?: PayloadCodec;
  /** D5: browser origins allowed to call the codec endpoint (default: PLEDGE_CODEC_CORS_ORIGIN or the dev UI). */
  codecCorsOrigins?: readonly string[];
  /** Aborted when the server starts draining before it stops: /readyz then answers 503 `draining`. */
  draining?: AbortSignal;
  /** Where each request's log line goes (observability/logger.ts); the process logger when absent. */
  logger?: Logger;
}
