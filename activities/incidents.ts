import type postgres from 'postgres';
import { formatAmount, remedyFor, type CompensationPolicy } from '../domain/compensation-policy';
import { describeScopeQuery, formatDuration, scopeIsEmpty, type IncidentScope } from '../domain/incident';
import { formatDateTime, resolveLocale, type TemplateId } from '../domain/notification-templates';
import { insertLedgerEntries, type LedgerEntry } from './ledger';
import { enqueueNotificationBatch, type BatchNotificationRequest } from './outbox';

export type FanoutKind = 'outage-notice' | 'update' | 'recovery';

export interface IncidentMessage {
  title: string;
  startedAt: string;
  /** The notice or update text (outage-notice, update). */
  message?: string;
  /** Recovery only. */
  endedAt?: string;
  outageMinutes?: number;
}

export interface IncidentPageInput {
  incidentWorkflowId: string;
  caseId: string;
  /** Prefix of every notification key of this fan-out, e.g. `<workflowId>:notice`. */
  notificationKeyPrefix: string;
  kind: FanoutKind;
  scopes: IncidentScope[];
  /** Keyset pagination: the last customer id of the previous page, null for the first. */
  afterCustomerId: string | null;
  pageSize: number;
  timeZone: string;
  message: IncidentMessage;
  /** Recovery: the policy pinned in the incident (P1). */
  compensation?: CompensationPolicy;
}

export interface IncidentPageResult {
  customers: number;
  lastCustomerId: string | null;
  notificationsQueued: number;
  remediesPaid: number;
  remedyAmountCents: number;
  done: boolean;
}

interface AffectedCustomer {
  id: string;
  locale: string;
  email: string | null;
  channels: string[];
  plan: string;
}

/** The customers a set of scopes touches (OR of the scopes), as a postgres.js fragment. */
function affectedCondition(sql: postgres.Sql | postgres.TransactionSql, scopes: readonly IncidentScope[]) {
  const usable = scopes.filter((scope) => !scopeIsEmpty(scope));
  if (usable.length === 0) return sql`false`;
  return usable
    .map((scope) => {
      const services = scope.services.length ? sql`services && ${scope.services}::text[]` : sql`true`;
      const regions = scope.regions.length ? sql`region = any(${scope.regions}::text[])` : sql`true`;
      return sql`(${services} and ${regions})`;
    })
    .reduce((left, right) => sql`${left} or ${right}`);
}

const templateOf: Record<FanoutKind, TemplateId> = {
  'outage-notice': 'incident.outage-notice',
  update: 'incident.update',
  recovery: 'incident.recovered',
};

export function createIncidentActivities(sql: postgres.Sql) {
  return {
    /** O3/O6: how many customers the scopes touch, and the query that says so (recorded on the case). */
    async countAffectedCustomers(input: { scopes: IncidentScope[] }): Promise<{ count: number; query: string }> {
      const [row] = await sql<{ count: string }[]>`select count(*) as count from customers where ${affectedCondition(sql, input.scopes)}`;
      return { count: Number(row!.count), query: describeScopeQuery(input.scopes) };
    },

    /**
     * One page of a fan-out (O4, O5, O7, O8): the next `pageSize` affected customers by id, their
     * notices (one INSERT … SELECT) and, on recovery, their remedies (one more), in one transaction.
     * Every row has a key derived from the incident and the customer, so a retried page adds nothing.
     */
    async deliverIncidentPage(input: IncidentPageInput): Promise<IncidentPageResult> {
      return sql.begin(async (tx) => {
        const customers = await tx<AffectedCustomer[]>`
          select id, locale, email, channels, plan from customers
          where (${affectedCondition(tx, input.scopes)})
            ${input.afterCustomerId === null ? tx`` : tx`and id > ${input.afterCustomerId}`}
          order by id
          limit ${input.pageSize}`;
        const ledger: LedgerEntry[] = [];
        const notifications: BatchNotificationRequest[] = customers.map((customer) => {
          const locale = resolveLocale(customer.locale);
          const params: Record<string, string> = {
            caseId: input.caseId,
            title: input.message.title,
            startedAt: formatDateTime(input.message.startedAt, locale, input.timeZone),
          };
          let templateId = templateOf[input.kind];
          if (input.kind !== 'recovery') params.message = input.message.message ?? '';
          else {
            params.endedAt = formatDateTime(input.message.endedAt!, locale, input.timeZone);
            params.duration = formatDuration(input.message.outageMinutes ?? 0, locale);
            const remedy = input.compensation ? remedyFor(input.compensation, input.message.outageMinutes ?? 0, customer.plan) : null;
            if (remedy && remedy.amountCents > 0) {
              templateId = 'incident.recovered-with-remedy';
              params.amount = formatAmount(remedy.amountCents, remedy.currency);
              params.creditDays = String(remedy.creditDays);
              params.policyVersion = remedy.policyVersion;
              ledger.push({
                idempotencyKey: `${input.incidentWorkflowId}:remedy:${customer.id}`,
                customerId: customer.id,
                caseId: input.caseId,
                kind: remedy.kind,
                amountCents: remedy.amountCents,
                currency: remedy.currency,
                policyVersion: remedy.policyVersion,
              });
            }
          }
          return { idempotencyKey: `${input.notificationKeyPrefix}:${customer.id}`, customer, caseId: input.caseId, templateId, params };
        });
        const queued = await enqueueNotificationBatch(tx, notifications);
        const paid = await insertLedgerEntries(tx, ledger);
        return {
          customers: customers.length,
          lastCustomerId: customers.at(-1)?.id ?? input.afterCustomerId,
          notificationsQueued: queued.queued,
          remediesPaid: paid.paid,
          remedyAmountCents: paid.amountCents,
          done: customers.length < input.pageSize,
        };
      });
    },

    /** O2: the incident resolved, so its alert group is free: the group's next outage opens a new incident. */
    /**
     * O2: the group's next outage opens a new incident. Alerts the API tied to this incident that the
     * workflow never saw (they raced its resolution) are released with the group, under the same
     * per-group lock as the API, so their next re-send opens that new incident instead of vanishing.
     */
    async closeAlertGroup(input: { caseId: string; closedAt: string; dedupKey?: string | null; knownAlerts?: { fingerprint: string; startsAt: string }[] }): Promise<{ released: number }> {
      return sql.begin(async (tx) => {
        if (input.dedupKey) await tx`select pg_advisory_xact_lock(hashtextextended(${input.dedupKey}, 0))`;
        await tx`update incident_alert_groups set closed_at = ${input.closedAt} where case_id = ${input.caseId} and closed_at is null`;
        if (!input.knownAlerts) return { released: 0 };
        const released = await tx`
          delete from incident_alerts
          where case_id = ${input.caseId}
            and (fingerprint, starts_at) not in (
              select fingerprint, starts_at
              from unnest(${input.knownAlerts.map((alert) => alert.fingerprint)}::text[], ${input.knownAlerts.map((alert) => alert.startsAt)}::timestamptz[])
                as known(fingerprint, starts_at))
          returning fingerprint`;
        return { released: released.length };
      });
    },

    /** O9: the incident's outage interval and reach, kept current for availability. */
    async recordOutage(input: {
      caseId: string;
      title: string;
      severity: string;
      services: string[];
      regions: string[];
      startedAt: string;
      endedAt: string | null;
    }): Promise<void> {
      await sql`
        insert into incident_outages (case_id, title, severity, services, regions, started_at, ended_at)
        values (${input.caseId}, ${input.title}, ${input.severity}, ${input.services}, ${input.regions}, ${input.startedAt}, ${input.endedAt})
        on conflict (case_id) do update set
          title = excluded.title, severity = excluded.severity, services = excluded.services, regions = excluded.regions,
          started_at = excluded.started_at, ended_at = excluded.ended_at, updated_at = now()`;
    },
  };
}
