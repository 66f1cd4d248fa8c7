import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import { insertLedgerEntry, LedgerRefusal, reverseLedgerEntry, type LedgerEntry } from '../db/ledger';
import type { Sql } from '../db/sql';

// The claim case's side effects (P3–P6): what intake needs to assess a claim, and payments and
// reversals through the ledger, each exactly once by its idempotency key.

/** P5: one payment per key (e.g. `<claimWorkflowId>:payment:<n>`); a retry or a replay pays nothing more. */
export type PayRemedyInput = LedgerEntry & {
  /** Why it is paid, e.g. a repayment after a reversal; recorded on the row. */
  reason?: string | null;
};

export interface ReverseRemedyInput {
  entryId: number;
  /** P5: one reversal per key, e.g. `<claimWorkflowId>:reverse:<entryId>`. */
  idempotencyKey: string;
  /** The case that reverses (recorded on the reversal row). */
  caseId: string;
  /** P6: why, recorded on the reversal row. */
  reason: string;
}

export interface ClaimFactsInput {
  customerId: string;
  /** The incident claimed for, e.g. INC-2026-000042, or null for another failure. */
  incidentCaseId: string | null;
  /** P1: the policy's cap period, to sum what claims paid the customer within it. */
  capPeriodDays?: number;
}

export interface ClaimFactsResult {
  plan: string;
  /** The outage interval recorded for the incident (`incident_outages`); null without an incident, or while unknown / still running (end). */
  incidentStartedAt: string | null;
  incidentEndedAt: string | null;
  /** The incident case's status (read model), null without one. */
  incidentStatus: string | null;
  /**
   * P5: what this customer was already paid for the incident: its automatic remedy and any claim
   * paid for the same incident, net of their reversals (whichever case reversed them). Money kinds only
   * (service credit and coupons, in cents); points are not money and are left out.
   */
  alreadyPaidCents: number;
  /** P1: what claims paid this customer in the last `capPeriodDays`, net of reversals (money kinds). */
  paidInCapPeriodCents: number;
}

/** The error type a refused ledger operation fails the activity with (non-retryable; details: `{ code, entryId }`). */
export const ledgerRefusedType = 'LedgerRefused';

function refused(error: unknown): never {
  if (error instanceof LedgerRefusal) {
    throw ApplicationFailure.nonRetryable(error.message, ledgerRefusedType, { code: error.code, entryId: error.entryId ?? null });
  }
  throw error;
}

/** What claim intake needs to know (P3–P5), or undefined for an unknown customer. */
export async function readClaimFacts(sql: Sql, input: ClaimFactsInput): Promise<ClaimFactsResult | undefined> {
  const [customer] = await sql<{ plan: string; paid_in_period: string }[]>`
    select plan,
      (select coalesce(sum(e.amount_cents + coalesce(r.amount_cents, 0)), 0)
         from ledger e left join ledger r on r.reverses_id = e.id
        where e.customer_id = ${input.customerId} and e.reverses_id is null and e.kind <> 'points'
          and e.created_at > now() - make_interval(days => ${input.capPeriodDays ?? 0})
          and e.case_id in (select case_id from cases where type = 'compensation' and customer_id = ${input.customerId})) as paid_in_period
    from customers where id = ${input.customerId}`;
  if (!customer) return undefined;
  const paidInCapPeriodCents = Number(customer.paid_in_period);
  if (input.incidentCaseId === null) return { plan: customer.plan, incidentStartedAt: null, incidentEndedAt: null, incidentStatus: null, alreadyPaidCents: 0, paidInCapPeriodCents };
  const [incident] = await sql<{ started_at: Date | null; ended_at: Date | null; status: string | null; paid: string }[]>`
    select
      (select started_at from incident_outages where case_id = ${input.incidentCaseId}) as started_at,
      (select ended_at from incident_outages where case_id = ${input.incidentCaseId}) as ended_at,
      (select status from cases where case_id = ${input.incidentCaseId}) as status,
      (select coalesce(sum(e.amount_cents + coalesce(r.amount_cents, 0)), 0)
         from ledger e left join ledger r on r.reverses_id = e.id
        where e.customer_id = ${input.customerId}
          and (e.case_id = ${input.incidentCaseId}
               or e.case_id in (select case_id from cases where type = 'compensation' and state -> 'details' ->> 'incidentId' = ${input.incidentCaseId}))
          and e.reverses_id is null and e.kind <> 'points') as paid`;
  return {
    plan: customer.plan,
    incidentStartedAt: incident!.started_at?.toISOString() ?? null,
    incidentEndedAt: incident!.ended_at?.toISOString() ?? null,
    incidentStatus: incident!.status,
    alreadyPaidCents: Number(incident!.paid),
    paidInCapPeriodCents,
  };
}

export function createClaimActivities(sql: postgres.Sql) {
  return {
    /**
     * P5: pays a remedy once per key. A retry (after the row was written, or of an attempt whose
     * answer was lost) pays nothing and answers the same entry, with paid = false.
     */
    async payRemedy(input: PayRemedyInput): Promise<{ entryId: number; paid: boolean }> {
      try {
        const { id, inserted } = await insertLedgerEntry(sql, input);
        return { entryId: id, paid: inserted };
      } catch (error) {
        return refused(error);
      }
    },

    /**
     * P6: takes a paid entry back with a reversal entry, once per key (a retry answers the same
     * reversal). A refusal (already reversed under another key, unknown entry, a reversal) fails
     * for good with type LedgerRefused, details `{ code, entryId }`, for the workflow to record.
     */
    async reverseRemedy(input: ReverseRemedyInput): Promise<{ reversalId: number }> {
      try {
        const { id } = await reverseLedgerEntry(sql, input);
        return { reversalId: id };
      } catch (error) {
        return refused(error);
      }
    },

    /** P3–P5: the customer's plan, the incident's outage interval and status, and what was already paid for it. An unknown customer fails for good (UnknownCustomer). */
    async claimFacts(input: ClaimFactsInput): Promise<ClaimFactsResult> {
      const facts = await readClaimFacts(sql, input);
      if (!facts) throw ApplicationFailure.nonRetryable(`no customer ${input.customerId}`, 'UnknownCustomer', { customerId: input.customerId });
      return facts;
    },
  };
}
