import type postgres from 'postgres';
import { insertCaseEvents } from '../db/case-events';
import { upsertCaseReadModel } from '../db/cases';
import type { RecordStepsInput } from '../domain/messages';
import { enqueueNotification } from '../notifications/outbox';
import { queueStaffMessages } from '../notifications/staff-pages';

export function createCaseRecordActivities(sql: postgres.Sql) {
  return {
    /**
     * D1: one transition of a case, in one transaction: its events appended as steps `firstStep`,
     * `firstStep + 1`, …, the read model moved forward (never back) to `state`, and the messages of
     * every event this call appended queued. A retry appends nothing twice and queues nothing twice.
     */
    async recordSteps(input: RecordStepsInput): Promise<{ recorded: number }> {
      const { state, events, firstStep } = input;
      return sql.begin(async (tx) => {
        const inserted = new Set(await insertCaseEvents(tx, { workflowId: input.workflowId, caseId: state.caseId, customerId: state.customerId, firstStep, events }));
        await upsertCaseReadModel(tx, { workflowId: input.workflowId, state, lastStep: firstStep + events.length - 1 });
        for (const [index, event] of events.entries()) {
          if (!inserted.has(firstStep + index)) continue;
          for (const notification of event.notifications ?? []) await enqueueNotification(tx, notification);
          await queueStaffMessages(tx, state.caseId, event.staffNotifications ?? []);
        }
        return { recorded: inserted.size };
      });
    },
  };
}
