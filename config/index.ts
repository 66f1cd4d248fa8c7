import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { staffRoles, type StaffRole } from '../domain/actors';
import { defaultCompensationPolicy } from '../domain/compensation-policy';
import { defaultIncidentPolicy } from '../domain/incident-policy';
import { parseStaffRoutes, type StaffRoutes } from '../domain/staff-routes';
import { defaultComplaintSlaPolicy, type DeploymentPolicies } from '../domain/sla-policy';

/** Keys used when PLEDGE_API_KEYS is unset outside production; printed by `npm start`. */
export const devApiKeys = 'agent:dev-agent-key,supervisor:dev-supervisor-key,alert-source:dev-alert-key,auditor:dev-auditor-key';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('pledge'),
  PLEDGE_API_KEYS: z.string().optional(),
  PLEDGE_TIMEZONE: z.string().default('Asia/Shanghai'),
  PLEDGE_POLICY_FILE: z.string().optional(),
  /** C8: where users reach Pledge; every message links to `<PLEDGE_PUBLIC_URL>/track/<code>`. */
  PLEDGE_PUBLIC_URL: z.string().url().default('http://127.0.0.1:3000'),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().default('Pledge <no-reply@pledge.local>'),
  /** SMS gateway, smpp://systemId:password@host:2775; without it SMS is recorded as not sent. */
  SMPP_URL: z.string().optional(),
  /** The SMS sender id: alphanumeric (up to 11) or a number. */
  SMS_SENDER_ID: z.string().min(1).max(16).default('Pledge'),
  /** C9: where staff are paged, per role: e-mail addresses and a JSON webhook (domain/staff-routes.ts). */
  PLEDGE_STAFF_ROUTES: z.string().optional(),
  /** D5: payload keys for Temporal, `id:<base64 32 bytes>,…`, the first encrypts (codec/keys.ts); or a JSON key file. */
  PLEDGE_PAYLOAD_KEYS: z.string().optional(),
  PLEDGE_PAYLOAD_KEY_FILE: z.string().optional(),
  /** D5: the HMAC key of the customer pseudonym Temporal's CustomerId search attribute holds. */
  PLEDGE_PSEUDONYM_KEY: z.string().optional(),
  /** Browser origins of the Temporal UI allowed to call the codec endpoint, comma-separated. */
  PLEDGE_CODEC_CORS_ORIGIN: z.string().optional(),
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long the API lets requests in flight, and the worker its tasks, finish after SIGTERM. */
  PLEDGE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * B4 (issue 15): workflows the worker keeps in memory between their tasks (0: none). A cached case
   * holds ~2.4 MiB of V8 heap, 2.3 MiB of it its own instance of the bundle's modules (zod and every
   * case type's schemas); one not cached is replayed when it next wakes (~20 ms of CPU more). 200
   * keep ~0.5 GiB live, which leaves room for replays in a worker run with --max-old-space-size=768
   * (1.07 GiB resident at peak with 2,000 open complaints and 1,000 deadlines in one minute). The
   * SDK's own default, from the heap limit (~2,300 at Node's 4 GiB), would need ~5.5 GiB. Without
   * a heap cap the workflow thread grows to gigabytes of garbage before it collects, whatever this is.
   */
  PLEDGE_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(200),
  /** A file the worker touches while it polls, for a container health check (docker-compose.yml). */
  PLEDGE_WORKER_HEARTBEAT_FILE: z.string().optional(),
  /** TLS and authentication to Temporal (config/temporal-connection.ts; README "Security and operations"). */
  TEMPORAL_TLS: z.string().optional(),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

let parsedStaffRoutes: { raw: string | undefined; routes: StaffRoutes } | undefined;

/** C9: where staff are paged (PLEDGE_STAFF_ROUTES), read when first needed and again when it changes. */
export function staffRoutes(source: NodeJS.ProcessEnv = process.env): StaffRoutes {
  const raw = source.PLEDGE_STAFF_ROUTES;
  if (parsedStaffRoutes && parsedStaffRoutes.raw === raw) return parsedStaffRoutes.routes;
  const routes = parseStaffRoutes(raw);
  parsedStaffRoutes = { raw, routes };
  return routes;
}

/** The public base URL alone, for the outbox (which renders links) without the rest of the settings. */
export function publicUrl(source: NodeJS.ProcessEnv = process.env): string {
  const parsed = envSchema.pick({ PLEDGE_PUBLIC_URL: true }).safeParse(source);
  if (!parsed.success) throw new Error(`invalid configuration: PLEDGE_PUBLIC_URL: ${parsed.error.issues[0]?.message ?? 'not a URL'}`);
  return parsed.data.PLEDGE_PUBLIC_URL;
}

export function requireDatabaseUrl(env: Env): string {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: point it at the Pledge Postgres database');
  return env.DATABASE_URL;
}

/** `role:key,role:key` → key → role. Refuses to run production on the documented dev keys. */
export function parseApiKeys(env: Env): Map<string, StaffRole> {
  const spec = env.PLEDGE_API_KEYS ?? (env.NODE_ENV === 'production' ? undefined : devApiKeys);
  if (!spec) throw new Error('PLEDGE_API_KEYS is required in production (format role:key,role:key)');
  const keys = new Map<string, StaffRole>();
  for (const entry of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    const role = entry.slice(0, separator) as StaffRole;
    const key = entry.slice(separator + 1);
    if (separator < 1 || !staffRoles.includes(role) || key.length < 8) {
      throw new Error(`PLEDGE_API_KEYS entry '${entry.slice(0, 24)}…' must be role:key with role one of ${staffRoles.join(', ')} and a key of 8+ characters`);
    }
    keys.set(key, role);
  }
  return keys;
}

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const policyFileSchema = z.object({
  // Any field left out keeps the shipped default; the version is required so cases record which policy they run under.
  complaintSla: z
    .object({
      version: z.string().min(1),
      firstResponseMinutes: z.object({ P1: z.number().positive(), P2: z.number().positive(), P3: z.number().positive(), P4: z.number().positive() }).optional(),
      majorFullResponseMinutes: z.number().positive().optional(),
      preliminaryWorkingDays: z.number().int().positive().optional(),
      resultWorkingDays: z.number().int().positive().optional(),
      warnAtFraction: z.number().gt(0).lt(1).optional(),
      disputeWindowDays: z.number().int().positive().optional(),
      reopenWindowDays: z.number().int().positive().optional(),
      staffQuietHours: z.object({ from: clockTime, to: clockTime }).nullable().optional(),
      awaitingCustomerReminderDays: z.number().positive().optional(),
      awaitingCustomerCloseDays: z.number().positive().optional(),
      arbitrationWorkingDays: z.number().int().positive().optional(),
      referralReminderDays: z.number().positive().optional(),
    })
    .optional(),
  incident: z
    .object({
      version: z.string().min(1),
      noticeWithinMinutes: z.number().positive().optional(),
      noticeSafetyMarginMinutes: z.number().min(0).optional(),
      repairWithinMinutes: z.number().positive().optional(),
      warnAtFraction: z.number().gt(0).lt(1).optional(),
      updateEveryMinutes: z.number().positive().optional(),
      reviewWithinWorkingDays: z.number().int().positive().optional(),
      reviewReminderEveryMinutes: z.number().positive().optional(),
      fanoutPageSize: z.number().int().min(1).max(5000).optional(),
      fanoutPagesPerRun: z.number().int().min(1).max(500).optional(),
    })
    .refine((policy) => (policy.noticeSafetyMarginMinutes ?? 0) < (policy.noticeWithinMinutes ?? defaultIncidentPolicy.noticeWithinMinutes), {
      message: 'the safety margin must be shorter than the notice deadline',
      path: ['noticeSafetyMarginMinutes'],
    })
    .optional(),
  compensation: z
    .object({
      version: z.string().min(1),
      currency: z.string().length(3).optional(),
      tiers: z
        .array(z.object({ minOutageMinutes: z.number().min(0), creditDays: z.number().positive() }))
        .min(1)
        .optional(),
      planMonthlyFeeCents: z.record(z.string(), z.number().int().min(0)).optional(),
      defaultMonthlyFeeCents: z.number().int().min(0).optional(),
      planMultiplier: z.record(z.string(), z.number().positive()).optional(),
      claimWindowDays: z.number().int().positive().optional(),
      claimDecisionWorkingDays: z.number().int().positive().optional(),
      approvalThresholdCents: z.number().int().min(0).optional(),
    })
    .optional(),
});

/** The shipped defaults, overridden per deployment by PLEDGE_POLICY_FILE (JSON). */
export function loadPolicies(env: Env): DeploymentPolicies {
  const overrides = env.PLEDGE_POLICY_FILE ? policyFileSchema.parse(JSON.parse(readFileSync(env.PLEDGE_POLICY_FILE, 'utf8'))) : {};
  return {
    timeZone: env.PLEDGE_TIMEZONE,
    complaintSla: { ...defaultComplaintSlaPolicy, ...stripUndefined(overrides.complaintSla ?? {}) },
    incident: { ...defaultIncidentPolicy, ...stripUndefined(overrides.incident ?? {}) },
    compensation: (() => {
      const compensation = { ...defaultCompensationPolicy, ...stripUndefined(overrides.compensation ?? {}) };
      return { ...compensation, tiers: [...compensation.tiers].sort((a, b) => a.minOutageMinutes - b.minOutageMinutes) };
    })(),
  };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as never;
}

const loadedSections = new Map<string, { file: string | undefined; value: object }>();

/**
 * A case type's policy: the shipped defaults, with the fields its section of PLEDGE_POLICY_FILE
 * sets (checked by `overridesSchema`); read once per file and pinned into each case at intake.
 */
export function policySection<Policy extends object>(name: string, overridesSchema: z.ZodType<Partial<Policy>>, defaults: Policy, source: NodeJS.ProcessEnv = process.env): Policy {
  const file = source.PLEDGE_POLICY_FILE;
  const loaded = loadedSections.get(name);
  if (loaded && loaded.file === file) return loaded.value as Policy;
  const section = file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[name] : undefined;
  const overrides = section === undefined ? undefined : overridesSchema.parse(section);
  const value = overrides ? { ...defaults, ...Object.fromEntries(Object.entries(overrides).filter(([, field]) => field !== undefined)) } : defaults;
  loadedSections.set(name, { file, value });
  return value;
}
