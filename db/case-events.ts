import type postgres from 'postgres';
import type { Actor } from '../domain/actors';
import { openDeep, sealFields } from '../codec/customer-data-keys';
import { personalEventFields } from '../domain/personal-data';
import { loadCaseCipher, loadCustomerCipher } from './customer-keys';
import type { Sql } from './sql';

// The append-only audit trail (table `case_events`, D1): the database refuses updates and deletes.

export interface CaseEventRow {
  type: string;
  actor: Actor;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * Appends `events` as steps `firstStep`, `firstStep + 1`, … of the workflow, in one statement.
 * (workflow_id, step) is unique, so a retried append inserts nothing twice. Returns the steps
 * this call inserted. D5: the personal fields of each event's data are sealed under the data key
 * of the case's customer (`customerId`; null for a case of no customer).
 */
export async function insertCaseEvents(sql: Sql, input: { workflowId: string; caseId: string; customerId: string | null; firstStep: number; events: readonly CaseEventRow[] }): Promise<number[]> {
  if (input.events.length === 0) return [];
  const cipher = await loadCustomerCipher(sql, input.customerId);
  const rows = input.events.map((event, index) => ({
    step: input.firstStep + index,
    type: event.type,
    actor_id: event.actor.id,
    actor_role: event.actor.role,
    occurred_at: event.occurredAt,
    data: sealFields(cipher, event.data, personalEventFields),
  }));
  const inserted = await sql<{ step: number }[]>`
    insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
    select ${input.workflowId}, step, ${input.caseId}, type, actor_id, actor_role, occurred_at, coalesce(data, '{}'::jsonb)
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)})
      as r(step integer, type text, actor_id text, actor_role text, occurred_at timestamptz, data jsonb)
    order by step
    on conflict (workflow_id, step) do nothing
    returning step`;
  return inserted.map((row) => row.step).sort((a, b) => a - b);
}

export interface RecordedCaseEvent extends CaseEventRow {
  step: number;
}

/** A case's trail in step order, sealed fields opened (erased once the customer's key is destroyed); empty when the case is unknown. */
export async function listCaseEvents(sql: Sql, caseId: string): Promise<RecordedCaseEvent[]> {
  const cipher = await loadCaseCipher(sql, caseId);
  const rows = await sql<{ step: number; type: string; actor_id: string; actor_role: Actor['role']; occurred_at: Date; data: Record<string, unknown> }[]>`
    select step, type, actor_id, actor_role, occurred_at, data from case_events where case_id = ${caseId} order by step`;
  return rows.map((row) => ({
    step: row.step,
    type: row.type,
    actor: { id: row.actor_id, role: row.actor_role },
    occurredAt: row.occurred_at.toISOString(),
    data: openDeep(cipher, row.data) as Record<string, unknown>,
  }));
}
