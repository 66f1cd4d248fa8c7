import { asyncLocalStorage, heartbeat } from '@temporalio/activity';
import type postgres from 'postgres';
import { countAffectedCustomers } from '../db/customers';
import { findFanoutSnapshot, pageFanoutRecipients, snapshotFanoutRecipients } from '../db/fanout-recipients';
import { adoptAlertGroups, closeAlertGroup } from '../db/incident-alerts';
import { upsertOutage, type OutageRecord } from '../db/incident-outages';
import { insertLedgerEntries, sumLedgerByKeys, type LedgerEntry } from '../db/ledger';
import { insertPendingRemedies, markRemediesApproved, sumPendingByKeys, waitingRemedies } from '../db/pending-remedies';
import { countNotificationsByKeys, insertNotifications } from '../db/notifications';
import { formatAmount, remedyFor, type CompensationPolicy } from '../domain/compensation-policy';
import { describeScopeQuery, formatDuration, type IncidentScope } from '../domain/incident';
import type { FanoutKind, IncidentMessage } from '../domain/messages';
import { formatDateTime, resolveLocale, type TemplateId } from '../domain/notification-templates';
import { notificationRows, type BatchNotificationRequest } from '../notifications/outbox';

export interface IncidentPageInput {
  incidentWorkflowId: string;
  caseId: string;
  /** Prefix of every notification key of this fan-out, e.g. `<workflowId>:notice`. */
  notificationKeyPrefix: string;
  /**
   * The key of this fan-out's recipient snapshot: one per fan-out (the child's workflow id), so a
   * notice sent again to a wider scope snapshots the newcomers while the notification keys skip
   * those already told. Fan-outs started before it existed use the notification prefix.
   */
  recipientsKey?: string;
  kind: FanoutKind;
  /** The scopes the recipients were taken from (a fan-out started before snapshots existed takes its snapshot from them). */
  scopes: IncidentScope[];
  /** Keyset pagination: the last customer id of the previous page, null for the first. */
  afterCustomerId: string | null;
  pageSize: number;
  timeZone: string;
  message: IncidentMessage;
  /** Recovery: the policy pinned in the incident (P1). */
  compensation?: CompensationPolicy;
  /**
   * O2/P5: the recipient snapshot leaves out customers with a notification under any of these key
   * prefixes (an incident merged into this one already told them of the outage).
   */
  skipNotifiedUnder?: string[];
  /** P4 (later rule): remedies above this amount wait for a supervisor instead of being paid. */
  approvalThresholdCents?: number;
}

export interface IncidentPageResult {
  /** Recipients of this page that were told (a customer deleted since the snapshot is skipped). */
  customers: number;
  lastCustomerId: string | null;
  /** The page's notification rows, counted by key: a retried page reports what the first attempt queued. */
  notificationsQueued: number;
  /** The page's remedies, counted by key, likewise. */
  remediesPaid: number;
  remedyAmountCents: number;
  /** P4: remedies of this page waiting for a supervisor's approval (counted by key, like the paid ones). */
  remediesPending?: number;
  remedyPendingAmountCents?: number;
  done: boolean;
}

const templateOf: Record<FanoutKind, TemplateId> = {
  'outage-notice': 'incident.outage-notice',
  update: 'incident.update',
  recovery: 'incident.recovered',
  correction: 'incident.correction',
};

/** Tells the server the page is alive (fan-out pages heartbeat); a no-op when called outside an activity, as in tests. */
function heartbeatIfActivity(details?: unknown): void {
  if (asyncLocalStorage.getStore()) heartbeat(details);
}

export function createIncidentActivities(sql: postgres.Sql) {
  return {
    /** O3/O6: how many customers the scopes touch, and the query that says so (recorded on the case). */
    async countAffectedCustomers(input: { scopes: IncidentScope[] }): Promise<{ count: number; query: string }> {
      return { count: await countAffectedCustomers(sql, input.scopes), query: describeScopeQuery(input.scopes) };
    },

    /**
     * O4, O7: fixes who a fan-out tells, once, when it starts: the customers the scopes touch now,
     * stored under the fan-out key. A retry, or a second call, changes nothing.
     */
    async snapshotFanoutRecipients(input: { fanoutKey: string; scopes: IncidentScope[]; skipNotifiedUnder?: string[] }): Promise<{ customers: number }> {
      return { customers: await snapshotFanoutRecipients(sql, input.fanoutKey, input.scopes, { skipNotifiedUnder: input.skipNotifiedUnder ?? [] }) };
    },

    /**
     * One page of a fan-out (O4, O5, O7, O8): the next `pageSize` recipients of the fan-out's
     * snapshot by id, their notices (one INSERT … SELECT) and, on recovery, their remedies (one
     * more), in one transaction. Every row has a key derived from the incident and the customer,
     * so a retried page adds nothing; its totals are counted by those keys, so it still reports
     * the page's rows.
     */
    async deliverIncidentPage(input: IncidentPageInput): Promise<IncidentPageResult> {
      heartbeatIfActivity({ afterCustomerId: input.afterCustomerId });
      return sql.begin(async (tx) => {
        // A fan-out started before recipient snapshots existed takes its snapshot at its next page.
        const recipientsKey = input.recipientsKey ?? input.notificationKeyPrefix;
        if ((await findFanoutSnapshot(tx, recipientsKey)) === undefined) await snapshotFanoutRecipients(tx, recipientsKey, input.scopes, { skipNotifiedUnder: input.skipNotifiedUnder ?? [] });
        const recipients = await pageFanoutRecipients(tx, recipientsKey, input.afterCustomerId, input.pageSize);
        heartbeatIfActivity({ afterCustomerId: input.afterCustomerId, recipients: recipients.length });
        const ledger: LedgerEntry[] = [];
        const pending: LedgerEntry[] = [];
        const requests: BatchNotificationRequest[] = recipients.flatMap(({ customer }) => {
          if (!customer) return [];
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
              const waits = input.approvalThresholdCents !== undefined && remedy.amountCents > input.approvalThresholdCents;
              templateId = waits ? 'incident.recovered-remedy-pending' : 'incident.recovered-with-remedy';
              params.amount = formatAmount(remedy.amountCents, remedy.currency);
              params.creditDays = String(remedy.creditDays);
              params.policyVersion = remedy.policyVersion;
              (waits ? pending : ledger).push({
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
          return [{ idempotencyKey: `${input.notificationKeyPrefix}:${customer.id}`, customer, caseId: input.caseId, templateId, params }];
        });
        const rows = notificationRows(requests);
        await insertNotifications(tx, rows);
        await insertLedgerEntries(tx, ledger);
        await insertPendingRemedies(tx, pending);
        const queued = await countNotificationsByKeys(
          tx,
          rows.map((row) => row.idempotencyKey),
        );
        const paid = await sumLedgerByKeys(
          tx,
          ledger.map((entry) => entry.idempotencyKey),
        );
        const waiting = await sumPendingByKeys(
          tx,
          pending.map((entry) => entry.idempotencyKey),
        );
        heartbeatIfActivity({ afterCustomerId: input.afterCustomerId, recipients: recipients.length, queued });
        return {
          customers: requests.length,
          lastCustomerId: recipients.at(-1)?.customerId ?? input.afterCustomerId,
          notificationsQueued: queued,
          remediesPaid: paid.paid,
          remedyAmountCents: paid.amountCents,
          ...(input.approvalThresholdCents === undefined ? {} : { remediesPending: waiting.pending, remedyPendingAmountCents: waiting.amountCents }),
          done: recipients.length < input.pageSize,
        };
      });
    },

    /**
     * O2: the group's next outage opens a new incident. Alerts the API tied to this incident that the
     * workflow never saw (they raced its resolution) are released with the group, under the same
     * per-group lock as the API, so their next re-send opens that new incident instead of vanishing.
     */
    /**
     * P4: a supervisor approved the incident's remedies that waited: each is paid under the key it
     * waited with and its customer told, a chunk per transaction; a retry pays nothing twice.
     */
    async approvePendingRemedies(input: { caseId: string; approvedBy: string; timeZone: string }): Promise<{ paid: number; amountCents: number }> {
      let total = { paid: 0, amountCents: 0 };
      for (;;) {
        heartbeatIfActivity(total);
        const chunk = await sql.begin(async (tx) => {
          const waiting = await waitingRemedies(tx, input.caseId, 1000);
          if (waiting.length === 0) return undefined;
          const requests: BatchNotificationRequest[] = waiting.map((remedy) => ({
            idempotencyKey: `${remedy.idempotencyKey}:approved`,
            customer: remedy.customer,
            caseId: input.caseId,
            templateId: 'incident.remedy-approved',
            params: { caseId: input.caseId, amount: formatAmount(remedy.amountCents, remedy.currency), policyVersion: remedy.policyVersion },
          }));
          await insertLedgerEntries(tx, waiting);
          await insertNotifications(tx, notificationRows(requests));
          await markRemediesApproved(
            tx,
            waiting.map((remedy) => remedy.idempotencyKey),
            input.approvedBy,
          );
          return sumLedgerByKeys(
            tx,
            waiting.map((remedy) => remedy.idempotencyKey),
          );
        });
        if (!chunk) return total;
        total = { paid: total.paid + chunk.paid, amountCents: total.amountCents + chunk.amountCents };
      }
    },

    async closeAlertGroup(input: { caseId: string; closedAt: string; dedupKey?: string | null; knownAlerts?: { fingerprint: string; startsAt: string }[] }): Promise<{ released: number }> {
      return { released: await closeAlertGroup(sql, input) };
    },

    /**
     * O2/P5: an incident was merged into `toCaseId`: the alert groups it owned are the target's now,
     * so the groups' next alerts reach the target, and so are its alerts (those it never saw are
     * delivered again on their next re-send). With `release` (the target is no longer open) they are
     * released instead, as at a resolution.
     */
    async adoptAlertGroups(input: { fromCaseId: string; toCaseId: string; at: string; knownAlerts: { fingerprint: string; startsAt: string }[]; release: boolean }): Promise<{
      groups: number;
      alerts: number;
      released: number;
    }> {
      return adoptAlertGroups(sql, input);
    },

    /** O9: the incident's outage interval and reach, kept current for availability. */
    async recordOutage(input: OutageRecord): Promise<void> {
      await upsertOutage(sql, input);
    },
  };
}
