import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import { writeCustomerExport } from '../db/customer-exports';
import { anonymiseCustomer, deactivateCustomer, setCustomerLegalHold } from '../db/customer-lifecycle';
import type { DeactivateResult, DeletionResult, ExportResult, ProvisionResult, TerminationEffect } from '../domain/termination-case';
import { createWebhookSender, WebhookRejected } from '../notifications/webhook';
import { whileHeartbeating } from './heartbeat';

// The termination case's side effects (T3, T4, T6), each keyed so a retry does it once: exports of
// the customer's data, deactivation with the services released, the provisioning system told, a
// legal hold, and the deletion (anonymisation) of personal data.

type EffectInput<Kind extends TerminationEffect['kind']> = Omit<Extract<TerminationEffect, { kind: Kind }>, 'kind'>;

const unknownCustomer = (customerId: string) => ApplicationFailure.nonRetryable(`no customer ${customerId}`, 'UnknownCustomer', { customerId });

export function createTerminationActivities(sql: postgres.Sql) {
  return {
    /** T3, T4: export n of the case, written once under `<data dir>/exports/<caseId>-<n>.json`; a retry answers the same file. */
    async exportCustomerData(input: EffectInput<'export'>): Promise<ExportResult> {
      const record = await whileHeartbeating(() => writeCustomerExport(sql, { caseId: input.caseId, customerId: input.customerId, n: input.n, purpose: input.purpose, createdAt: input.at }));
      if (!record) throw unknownCustomer(input.customerId);
      return { n: record.n, path: record.path, sha256: record.sha256, sizeBytes: record.sizeBytes, createdAt: record.createdAt };
    },

    /** T4: account deactivated at the effective date, services released; a repeat answers the first. */
    async deactivateCustomer(input: EffectInput<'deactivate'>): Promise<DeactivateResult> {
      const result = await whileHeartbeating(() => deactivateCustomer(sql, { customerId: input.customerId, at: input.at }));
      if (!result) throw unknownCustomer(input.customerId);
      return result;
    },

    /**
     * T4: tells the provisioning system (PLEDGE_PROVISIONING_WEBHOOK, a JSON POST with an
     * idempotency-key; signed with PLEDGE_PROVISIONING_WEBHOOK_SECRET when set) which services to
     * release. Without a webhook configured the step is recorded as skipped.
     */
    async notifyProvisioning(input: EffectInput<'provision'>): Promise<ProvisionResult> {
      const url = process.env.PLEDGE_PROVISIONING_WEBHOOK;
      if (!url) return { outcome: 'skipped', detail: 'PLEDGE_PROVISIONING_WEBHOOK is not set' };
      const secret = process.env.PLEDGE_PROVISIONING_WEBHOOK_SECRET;
      const sender = createWebhookSender({ secretFor: () => secret || undefined });
      const payload = { event: 'customer.terminated', caseId: input.caseId, customerId: input.customerId, releasedServices: input.releasedServices, effectiveAt: input.effectiveAt };
      try {
        const { status } = await sender.send({ url, idempotencyKey: input.idempotencyKey, payload });
        return { outcome: 'sent', detail: `answered ${status}` };
      } catch (error) {
        if (error instanceof WebhookRejected && !error.retryable) throw ApplicationFailure.nonRetryable(error.message, 'ProvisioningRefused', { status: error.status ?? null });
        throw error;
      }
    },

    /** T6: a legal hold placed on (or released from) the customer's personal data. */
    async setLegalHold(input: EffectInput<'legal-hold'>): Promise<{ hold: boolean }> {
      if (!(await whileHeartbeating(() => setCustomerLegalHold(sql, { customerId: input.customerId, hold: input.hold, reason: input.reason, at: input.at })))) throw unknownCustomer(input.customerId);
      return { hold: input.hold };
    },

    /** T6: personal data anonymised, unless a legal hold stands on the customer record (then `deleted: false` with its reason). */
    async deletePersonalData(input: EffectInput<'delete-personal-data'>): Promise<DeletionResult> {
      const result = await whileHeartbeating(() => anonymiseCustomer(sql, { customerId: input.customerId, at: input.at }));
      if (!result) throw unknownCustomer(input.customerId);
      return result;
    },
  };
}
