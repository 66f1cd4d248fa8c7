import type postgres from 'postgres';
import type { Actor } from '../domain/actors';
import { inTransaction, type Sql } from './sql';

// Legal holds (D2): the hold in force is on the customer row (customers.legal_hold, migration 0012,
// also set by a termination's own `legal-hold` action); who placed or lifted it, when and why is in
// `legal_hold_events` (append-only). A hold stops the retention purge and refuses deletion.

export interface LegalHoldEvent {
  action: 'placed' | 'lifted';
  reason: string;
  actor: Actor;
  at: string;
}

export interface LegalHold {
  customerId: string;
  held: boolean;
  reason: string | null;
  since: string | null;
  history: LegalHoldEvent[];
}

export async function findLegalHold(sql: Sql, customerId: string, historyLimit = 50): Promise<LegalHold | undefined> {
  const [row] = await sql<{ legal_hold: boolean; legal_hold_reason: string | null; legal_hold_at: Date | null }[]>`
    select legal_hold, legal_hold_reason, legal_hold_at from customers where id = ${customerId}`;
  if (!row) return undefined;
  const events = await sql<{ action: 'placed' | 'lifted'; reason: string; actor_id: string; actor_role: Actor['role']; at: Date }[]>`
    select action, reason, actor_id, actor_role, at from legal_hold_events where customer_id = ${customerId} order by id desc limit ${historyLimit}`;
  return {
    customerId,
    held: row.legal_hold,
    reason: row.legal_hold ? row.legal_hold_reason : null,
    since: row.legal_hold ? (row.legal_hold_at?.toISOString() ?? null) : null,
    history: events.map((event) => ({ action: event.action, reason: event.reason, actor: { id: event.actor_id, role: event.actor_role }, at: event.at.toISOString() })),
  };
}

/**
 * D2: places a hold (or restates it with a new reason), recorded with who and why. A hold already
 * standing for the same reason is left as it is (`changed: false`). Undefined for an unknown customer.
 */
export async function placeLegalHold(sql: postgres.Sql, request: { customerId: string; reason: string; actor: Actor }): Promise<{ hold: LegalHold; changed: boolean } | undefined> {
  return inTransaction(sql, async (tx) => {
    const [row] = await tx<{ legal_hold: boolean; legal_hold_reason: string | null }[]>`select legal_hold, legal_hold_reason from customers where id = ${request.customerId} for update`;
    if (!row) return undefined;
    const changed = !row.legal_hold || row.legal_hold_reason !== request.reason;
    if (changed) {
      await tx`update customers set legal_hold = true, legal_hold_reason = ${request.reason}, legal_hold_at = now(), updated_at = now() where id = ${request.customerId}`;
      await tx`insert into legal_hold_events (customer_id, action, reason, actor_id, actor_role) values (${request.customerId}, 'placed', ${request.reason}, ${request.actor.id}, ${request.actor.role})`;
    }
    return { hold: (await findLegalHold(tx, request.customerId))!, changed };
  });
}

/** D2: lifts the hold in force, recorded with who and why; `lifted: false` when none stood. Undefined for an unknown customer. */
export async function liftLegalHold(sql: postgres.Sql, request: { customerId: string; reason: string; actor: Actor }): Promise<{ hold: LegalHold; lifted: boolean } | undefined> {
  return inTransaction(sql, async (tx) => {
    const [row] = await tx<{ legal_hold: boolean }[]>`select legal_hold from customers where id = ${request.customerId} for update`;
    if (!row) return undefined;
    if (row.legal_hold) {
      await tx`update customers set legal_hold = false, legal_hold_reason = null, legal_hold_at = null, updated_at = now() where id = ${request.customerId}`;
      await tx`insert into legal_hold_events (customer_id, action, reason, actor_id, actor_role) values (${request.customerId}, 'lifted', ${request.reason}, ${request.actor.id}, ${request.actor.role})`;
    }
    return { hold: (await findLegalHold(tx, request.customerId))!, lifted: row.legal_hold };
  });
}
