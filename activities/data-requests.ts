import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import { writeCustomerExport } from '../db/customer-exports';
import { correctCustomer, eraseCustomer } from '../db/data-requests';
import { finishPurgeRun, purgeExpiredPage, startPurgeRun, type PurgeRun } from '../db/purge';
import type { CorrectionResult, DataRequestEffect, ErasureResult } from '../domain/data-request-case';
import type { ExportResult } from '../domain/termination-case';
import { whileHeartbeating } from './heartbeat';

// The side effects of data-subject requests (D3) and of the retention purge (D2), each keyed so a
// retry does it once: the export (the termination's), the correction, the deletion; a purge run's
// record, its pages and its end.

type EffectInput<Kind extends DataRequestEffect['kind']> = Omit<Extract<DataRequestEffect, { kind: Kind }>, 'kind'>;

const unknownCustomer = (customerId: string) => ApplicationFailure.nonRetryable(`no customer ${customerId}`, 'UnknownCustomer', { customerId });

export interface PurgePageResult {
  casesPurged: number;
  notificationsRedacted: number;
  exportFilesRemoved: number;
  more: boolean;
}

export function createDataRequestActivities(sql: postgres.Sql) {
  return {
    /** D3 (access): the customer's data as one JSON file, the same export a termination makes; a retry answers the same file. */
    async exportForDataRequest(input: EffectInput<'export'>): Promise<ExportResult> {
      const record = await whileHeartbeating(() => writeCustomerExport(sql, { caseId: input.caseId, customerId: input.customerId, n: input.n, purpose: 'requested', createdAt: input.at }));
      if (!record) throw unknownCustomer(input.customerId);
      return { n: record.n, path: record.path, sha256: record.sha256, sizeBytes: record.sizeBytes, createdAt: record.createdAt };
    },

    /** D3 (correction), D1: the customer's fields changed once, old → new recorded. */
    async correctCustomerData(input: EffectInput<'correct'>): Promise<CorrectionResult> {
      const result = await whileHeartbeating(() => correctCustomer(sql, input));
      if (!result) throw unknownCustomer(input.customerId);
      return result;
    },

    /** D3 (deletion): anonymised, or refused under a legal hold, or deferred while open cases need the data. */
    async eraseCustomerData(input: EffectInput<'erase'>): Promise<ErasureResult> {
      const result = await whileHeartbeating(() => eraseCustomer(sql, input));
      if (!result) throw unknownCustomer(input.customerId);
      return result;
    },

    /** D2: the record of this purge run (one per key). */
    async startPurgeRun(input: { runKey: string; policyVersion: string; retentionYears: number; cutoff: string }): Promise<PurgeRun> {
      return startPurgeRun(sql, input);
    },

    /** D2: one page of cases and messages past retention, in one transaction. */
    async purgeExpiredPage(input: { runId: number; cutoff: string; limit: number; retentionYears: number }): Promise<PurgePageResult> {
      return purgeExpiredPage(sql, input);
    },

    /** D2: the run's end, with the cases a legal hold kept. */
    async finishPurgeRun(input: { runId: number; cutoff: string }): Promise<PurgeRun> {
      return finishPurgeRun(sql, input);
    },
  };
}
