import type postgres from 'postgres';
import type { Actor } from '../domain/actors';
import { recordConsents, type ChannelConsent } from '../domain/channels';
import { changedAnswers, outboxPurpose, type ConsentAnswer, type ConsentChannel, type ConsentPurpose } from '../domain/consent';
import { inTransaction, type Sql } from './sql';

// Consent (D4): every answer a customer gave, per purpose and channel, with its time and source
// (table `consent_events`, append-only), and the answers in force (view `customer_consents`). The
// `service-notices` answers are also the per-channel map the outbox reads (customers.consents):
// changing them changes that map, and a trigger records every change of the map (this module, the
// CRM sync of PUT /v1/customers/{id}, anonymisation) as history (migration 0015).

export interface ConsentRecord {
  purpose: string;
  channel: string;
  granted: boolean;
  source: string;
  recordedAt: string;
  recordedBy: string | null;
}

type ConsentRow = { purpose: string; channel: string; granted: boolean; source: string; recorded_at: Date; recorded_by: string | null };

const recordOf = (row: ConsentRow): ConsentRecord => ({
  purpose: row.purpose,
  channel: row.channel,
  granted: row.granted,
  source: row.source,
  recordedAt: row.recorded_at.toISOString(),
  recordedBy: row.recorded_by,
});

/** The answers in force, one per purpose and channel the customer ever answered. */
export async function currentConsents(sql: Sql, customerId: string): Promise<ConsentRecord[]> {
  const rows = await sql<ConsentRow[]>`
    select purpose, channel, granted, source, recorded_at, recorded_by from customer_consents where customer_id = ${customerId} order by purpose, channel`;
  return rows.map(recordOf);
}

/** Every answer, newest first. */
export async function consentHistory(sql: Sql, customerId: string, limit: number): Promise<ConsentRecord[]> {
  const rows = await sql<ConsentRow[]>`
    select purpose, channel, granted, source, recorded_at, recorded_by from consent_events where customer_id = ${customerId} order by id desc limit ${limit}`;
  return rows.map(recordOf);
}

/**
 * D4: records the answers that differ from those in force (an unchanged answer keeps when and where
 * it was first given), stamped `at` with their source and who recorded them. `service-notices`
 * answers go to customers.consents (the trigger appends their history); the others are appended
 * directly. Undefined when there is no such customer.
 */
export async function recordConsentAnswers(
  sql: postgres.Sql,
  request: { customerId: string; answers: readonly ConsentAnswer[]; source: string; actor: Actor; at: string },
): Promise<{ changed: ConsentAnswer[] } | undefined> {
  return inTransaction(sql, async (tx) => {
    const [customer] = await tx<{ consents: Record<string, ChannelConsent> }[]>`select consents from customers where id = ${request.customerId} for update`;
    if (!customer) return undefined;
    await tx`select set_config('pledge.actor', ${request.actor.id}, true)`;
    const inForce = new Map((await currentConsents(tx, request.customerId)).map((record) => [`${record.purpose}:${record.channel}`, record]));
    const changed = changedAnswers(request.answers, (purpose: ConsentPurpose, channel: ConsentChannel) => inForce.get(`${purpose}:${channel}`));
    const forOutbox = changed.filter((answer) => answer.purpose === outboxPurpose);
    if (forOutbox.length > 0) {
      const consents = recordConsents(customer.consents, Object.fromEntries(forOutbox.map((answer) => [answer.channel, { granted: answer.granted, source: request.source }])), request.at);
      await tx`update customers set consents = ${tx.json(consents as unknown as postgres.JSONValue)}, updated_at = now() where id = ${request.customerId}`;
    }
    const others = changed.filter((answer) => answer.purpose !== outboxPurpose);
    if (others.length > 0) {
      const rows = others.map((answer) => ({ purpose: answer.purpose, channel: answer.channel, granted: answer.granted }));
      await tx`
        insert into consent_events (customer_id, purpose, channel, granted, source, recorded_at, recorded_by)
        select ${request.customerId}, purpose, channel, granted, ${request.source}, ${request.at}, ${request.actor.id}
        from jsonb_to_recordset(${tx.json(rows as unknown as postgres.JSONValue)}) as r(purpose text, channel text, granted boolean)`;
    }
    return { changed };
  });
}
