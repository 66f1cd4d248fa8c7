import { asyncLocalStorage, getClient, heartbeat } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type postgres from 'postgres';
import { loadWorkingCalendar } from '../config/calendar';
import { nextCaseNumber } from '../db/case-numbers';
import { claimIdempotencyKey, findIdempotencyKey } from '../db/idempotency-keys';
import { pageFanoutRecipients, snapshotFanoutRecipients } from '../db/fanout-recipients';
import { countNotificationsByKeys, insertNotifications } from '../db/notifications';
import { snapshotOneCustomer } from '../db/service-changes';
import { caseWorkflowId, formatCaseId } from '../domain/case-types';
import type { IncidentInput } from '../domain/incident-case';
import { resolveLocale, type Locale } from '../domain/notification-templates';
import { changeMessageParams, type ChangeFanout, type ChangeFanoutTotals } from '../domain/service-change';
import type { OverrunIncident, ServiceChangeInput } from '../domain/service-change-case';
import { calendarForYears } from '../domain/working-calendar';
import { notificationRows, type BatchNotificationRequest } from '../notifications/outbox';
import { caseStaticSummary, initialCaseSearchAttributes } from '../workflows/search-attributes';

// The side effects of service changes and renewal notices (N1–N4): a message to every user of an
// audience, page by page, and the incident an overrunning change opens.

export interface ChangeMessageInput {
  workflowId: string;
  caseId: string;
  /** The key of this fan-out's recipient snapshot: one per fan-out, fixed when it starts. */
  recipientsKey: string;
  fanout: ChangeFanout;
  timeZone: string;
  pageSize: number;
}

interface Progress {
  afterCustomerId: string | null;
  customers: number;
  notificationsQueued: number;
  pages: number;
}

const activityInfo = () => asyncLocalStorage.getStore()?.info;

/** Tells the server how far the fan-out got; a no-op outside an activity (as in tests). */
function heartbeatIfActivity(progress: Progress): void {
  if (asyncLocalStorage.getStore()) heartbeat(progress);
}

export function createServiceChangeActivities(sql: postgres.Sql) {
  return {
    /**
     * N3, N4: one message to every user of the audience. The recipients are fixed once, when it
     * starts (the customers the scopes touch, or the one customer); then a transaction per page of
     * them, in id order: their messages rendered in their locale and queued on their channels, keyed
     * `<keyPrefix>:<customerId>`, so a retried page adds nothing. Progress is heartbeated, and a
     * retry resumes after the last page that committed. The case's history holds one activity per
     * message, whatever the number of users.
     */
    async deliverChangeMessage(input: ChangeMessageInput): Promise<ChangeFanoutTotals> {
      const startedAtMs = Date.now();
      const { fanout } = input;
      let progress: Progress = (activityInfo()?.heartbeatDetails as Progress | undefined) ?? { afterCustomerId: null, customers: 0, notificationsQueued: 0, pages: 0 };
      if ('customerId' in fanout.audience) await snapshotOneCustomer(sql, input.recipientsKey, fanout.audience.customerId);
      else await snapshotFanoutRecipients(sql, input.recipientsKey, fanout.audience.scopes);
      const paramsByLocale = new Map<Locale, Record<string, string>>();
      const paramsFor = (locale: Locale) => {
        let params = paramsByLocale.get(locale);
        if (!params) paramsByLocale.set(locale, (params = changeMessageParams(fanout, locale, input.timeZone)));
        return params;
      };
      for (;;) {
        const page = await sql.begin(async (tx) => {
          const recipients = await pageFanoutRecipients(tx, input.recipientsKey, progress.afterCustomerId, input.pageSize);
          const requests: BatchNotificationRequest[] = recipients.flatMap(({ customer }) =>
            customer
              ? [{ idempotencyKey: `${fanout.keyPrefix}:${customer.id}`, customer, caseId: input.caseId, templateId: fanout.templateId, params: paramsFor(resolveLocale(customer.locale)) }]
              : [],
          );
          const rows = notificationRows(requests);
          await insertNotifications(tx, rows);
          const queued = await countNotificationsByKeys(
            tx,
            rows.map((row) => row.idempotencyKey),
          );
          return { customers: requests.length, queued, lastCustomerId: recipients.at(-1)?.customerId ?? progress.afterCustomerId, done: recipients.length < input.pageSize };
        });
        progress = {
          afterCustomerId: page.lastCustomerId,
          customers: progress.customers + page.customers,
          notificationsQueued: progress.notificationsQueued + page.queued,
          pages: progress.pages + 1,
        };
        heartbeatIfActivity(progress);
        if (page.done) return { customers: progress.customers, notificationsQueued: progress.notificationsQueued, pages: progress.pages, durationMs: Date.now() - startedAtMs };
      }
    },

    /**
     * A change overran its downtime window: its outage becomes an incident, started like the API
     * starts one, with the change's scope and the window's end as the outage start (O-rules count
     * from there). The incident's number is tied to the change (idempotency key scope
     * `overrun-incident`), so a retry finds the same number and the same workflow: one incident
     * per overrun, whatever retries happen.
     */
    async openOverrunIncident(input: {
      workflowId: string;
      caseId: string;
      incident: OverrunIncident;
      terms: ServiceChangeInput['incidentTerms'];
      timeZone: string;
    }): Promise<{ caseId: string; started: boolean }> {
      const startedAtMs = Date.parse(input.incident.startedAt);
      const year = Number(new Intl.DateTimeFormat('en', { timeZone: input.timeZone, year: 'numeric' }).format(new Date(startedAtMs)));
      const known = await findIdempotencyKey(sql, 'overrun-incident', input.workflowId);
      const held =
        known ?? (await claimIdempotencyKey(sql, { scope: 'overrun-incident', key: input.workflowId, requestHash: input.caseId, caseId: formatCaseId('incident', year, await nextCaseNumber(sql)) }));
      const incidentInput: IncidentInput = {
        caseId: held.caseId,
        source: 'manual',
        dedupKey: null,
        title: input.incident.title,
        description: input.incident.description,
        startedAt: input.incident.startedAt,
        severity: input.incident.severity,
        scope: input.incident.scope,
        openedBy: { id: `pledge (change ${input.caseId})`, role: 'system' },
        policy: input.terms.policy,
        compensation: input.terms.compensation,
        timeZone: input.timeZone,
        calendar: calendarForYears(await loadWorkingCalendar(sql), year, year + 1),
      };
      try {
        await getClient().workflow.start('incident', {
          taskQueue: asyncLocalStorage.getStore()!.info.taskQueue,
          workflowId: caseWorkflowId('incident', held.caseId),
          args: [incidentInput],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: initialCaseSearchAttributes({ type: 'incident', customerId: null, priority: input.incident.severity }),
          staticSummary: caseStaticSummary('incident', held.caseId, input.incident.title),
        });
        return { caseId: held.caseId, started: true };
      } catch (error) {
        // A retry after the start went through: the incident is already there.
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { caseId: held.caseId, started: false };
        throw error;
      }
    },
  };
}
