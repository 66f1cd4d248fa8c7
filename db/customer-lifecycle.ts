import { shredCustomerKey } from './customer-keys';
import { inTransaction, type Sql } from './sql';

// The end of a customer's life in Pledge (T4, T6): deactivation with the services released, a
// legal hold against deletion, anonymisation of their personal data; and the supervisors' list of
// terminations whose steps are late. Columns added to `customers` by migration 0012.

export interface CustomerStanding {
  id: string;
  status: 'active' | 'terminated';
  terminatedAt: string | null;
  anonymisedAt: string | null;
  legalHold: boolean;
}

/** Whether a customer may still open cases (T4), or undefined when there is no such customer. */
export async function findCustomerStanding(sql: Sql, customerId: string): Promise<CustomerStanding | undefined> {
  const [row] = await sql<{ id: string; status: 'active' | 'terminated'; terminated_at: Date | null; anonymised_at: Date | null; legal_hold: boolean }[]>`
    select id, status, terminated_at, anonymised_at, legal_hold from customers where id = ${customerId}`;
  return row
    ? { id: row.id, status: row.status, terminatedAt: row.terminated_at?.toISOString() ?? null, anonymisedAt: row.anonymised_at?.toISOString() ?? null, legalHold: row.legal_hold }
    : undefined;
}

/**
 * T4: deactivates the account at `at` and releases its services (set to none, the released ones
 * kept in `released_services`). Once only: a repeat answers what the first did.
 */
export async function deactivateCustomer(sql: Sql, request: { customerId: string; at: string }): Promise<{ terminatedAt: string; releasedServices: string[] } | undefined> {
  const [row] = await sql<{ terminated_at: Date; released_services: string[] }[]>`
    update customers set
      released_services = case when status = 'terminated' then released_services else services end,
      services = '{}',
      terminated_at = coalesce(terminated_at, ${request.at}),
      status = 'terminated',
      updated_at = now()
    where id = ${request.customerId}
    returning terminated_at, released_services`;
  return row ? { terminatedAt: row.terminated_at.toISOString(), releasedServices: row.released_services ?? [] } : undefined;
}

/** T6: places or releases a legal hold on the customer's personal data. False when there is no such customer. */
export async function setCustomerLegalHold(sql: Sql, request: { customerId: string; hold: boolean; reason: string; at: string }): Promise<boolean> {
  const rows = await sql`
    update customers set legal_hold = ${request.hold}, legal_hold_reason = ${request.hold ? request.reason : null},
      legal_hold_at = ${request.hold ? request.at : null}, updated_at = now()
    where id = ${request.customerId}
    returning id`;
  return rows.length > 0;
}

/**
 * The personal data anonymisation clears (T6); the account row, its id and its records stay. The
 * data key goes too (D3, D5): every value sealed under it — in case_events, notifications and
 * customer_corrections — stays in place and can no longer be read.
 */
export const anonymisedFields = ['name', 'email', 'phone', 'consents', 'quiet_hours', 'channels', 'notifications.recipient', 'data key'];

/**
 * T6: anonymises the customer's personal data unless a legal hold stands: name → 'deleted', e-mail
 * and phone removed, consents cleared, no quiet hours, inbox only, the addresses their sent
 * messages went to removed, and their data key destroyed. Once only: a repeat answers the first deletion.
 */
export async function anonymiseCustomer(
  sql: Sql,
  request: { customerId: string; at: string },
): Promise<{ deleted: true; deletedAt: string; fields: string[] } | { deleted: false; heldReason: string } | undefined> {
  return inTransaction(sql, async (tx) => {
    const [customer] = await tx<{ legal_hold: boolean; legal_hold_reason: string | null; anonymised_at: Date | null }[]>`
      select legal_hold, legal_hold_reason, anonymised_at from customers where id = ${request.customerId} for update`;
    if (!customer) return undefined;
    if (customer.anonymised_at) return { deleted: true, deletedAt: customer.anonymised_at.toISOString(), fields: anonymisedFields };
    if (customer.legal_hold) return { deleted: false, heldReason: customer.legal_hold_reason ?? 'legal hold' };
    await tx`
      update customers set name = 'deleted', email = null, phone = null, consents = '{}', quiet_hours = null, channels = '{inbox}',
        anonymised_at = ${request.at}, updated_at = now()
      where id = ${request.customerId}`;
    // Messages already delivered (or given up on) no longer need the address they went to.
    await tx`update notifications set recipient = null where customer_id = ${request.customerId} and recipient is not null and status not in ('pending', 'sending')`;
    await shredCustomerKey(tx, request.customerId, request.at);
    return { deleted: true, deletedAt: request.at, fields: anonymisedFields };
  });
}

/** T4: the termination case of the customer that is still running (scheduled or terminated), as last recorded. */
export async function findOpenTermination(sql: Sql, customerId: string): Promise<{ caseId: string; status: string } | undefined> {
  const [row] = await sql<{ case_id: string; status: string }[]>`
    select case_id, status from cases where type = 'termination' and customer_id = ${customerId} and status in ('scheduled', 'terminated')
    order by opened_at desc limit 1`;
  return row ? { caseId: row.case_id, status: row.status } : undefined;
}

export interface OverdueTermination {
  caseId: string;
  customerId: string;
  status: string;
  /** Which promised step is late: deactivation at the effective date (T4), or deletion after it (T6). */
  step: 'deactivation' | 'deletion';
  dueAt: string;
  overdueMinutes: number;
  /** T6: a deletion waiting for a legal hold is late by design; the hold's reason says why. */
  legalHold: string | null;
  failure: unknown;
}

/**
 * Terminations whose steps after the effective date are overdue by more than `graceMinutes`, from
 * the customer records themselves: the date passed but the account is active, or the deletion is
 * due but the personal data is still there. Withdrawn terminations are left out.
 */
export async function listOverdueTerminations(sql: Sql, options: { graceMinutes: number; limit: number }): Promise<OverdueTermination[]> {
  const rows = await sql<
    {
      case_id: string;
      customer_id: string;
      status: string;
      step: 'deactivation' | 'deletion';
      due_at: Date;
      overdue_minutes: number;
      legal_hold: string | null;
      failure: unknown;
    }[]
  >`
    with termination as (
      select t.case_id, t.customer_id, t.status, (t.state -> 'details' ->> 'effectiveAt')::timestamptz as effective_at,
             (t.state -> 'details' ->> 'deletionDueAt')::timestamptz as deletion_due_at, t.state -> 'details' -> 'failure' as failure,
             c.status as customer_status, c.anonymised_at, c.legal_hold, c.legal_hold_reason
      from cases t left join customers c on c.id = t.customer_id
      where t.type = 'termination' and t.status <> 'withdrawn'
    ), late as (
      select case_id, customer_id, status, 'deactivation' as step, effective_at as due_at, null as legal_hold, failure from termination
      where coalesce(customer_status, 'active') <> 'terminated' and effective_at < now() - make_interval(mins => ${options.graceMinutes})
      union all
      select case_id, customer_id, status, 'deletion', deletion_due_at, case when legal_hold then coalesce(legal_hold_reason, 'legal hold') end, failure from termination
      where anonymised_at is null and deletion_due_at < now() - make_interval(mins => ${options.graceMinutes})
    )
    select case_id, customer_id, status, step, due_at, floor(extract(epoch from now() - due_at) / 60)::int as overdue_minutes, legal_hold, failure
    from late order by due_at limit ${options.limit}`;
  return rows.map((row) => ({
    caseId: row.case_id,
    customerId: row.customer_id,
    status: row.status,
    step: row.step,
    dueAt: row.due_at.toISOString(),
    overdueMinutes: row.overdue_minutes,
    legalHold: row.legal_hold,
    failure: row.failure ?? null,
  }));
}
