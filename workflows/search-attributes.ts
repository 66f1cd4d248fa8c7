import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { CaseType } from '../domain/case-types';

/** Typed search attributes every case sets at start and upserts on every change (CustomerId, a pseudonym, only at start). */
export const caseSearchAttributes = {
  caseType: defineSearchAttributeKey('CaseType', SearchAttributeType.KEYWORD),
  caseStatus: defineSearchAttributeKey('CaseStatus', SearchAttributeType.KEYWORD),
  casePriority: defineSearchAttributeKey('CasePriority', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  slaBreached: defineSearchAttributeKey('SlaBreached', SearchAttributeType.BOOL),
  nextDeadlineAt: defineSearchAttributeKey('NextDeadlineAt', SearchAttributeType.DATETIME),
} as const;

/** The same attributes in the form the Temporal CLI registers them (`--search-attribute Name=Type`). */
export const searchAttributeRegistrations = {
  CaseType: 'Keyword',
  CaseStatus: 'Keyword',
  CasePriority: 'Keyword',
  CustomerId: 'Keyword',
  SlaBreached: 'Bool',
  NextDeadlineAt: 'Datetime',
} as const;

/** What a case shows in visibility from the moment it is started, before its first workflow task. */
export function initialCaseSearchAttributes(options: { type: CaseType; customerId: string | null; priority: string | null }): SearchAttributePair[] {
  return [
    { key: caseSearchAttributes.caseType, value: options.type },
    { key: caseSearchAttributes.caseStatus, value: 'opening' },
    { key: caseSearchAttributes.slaBreached, value: false },
    ...(options.customerId ? [{ key: caseSearchAttributes.customerId, value: options.customerId }] : []),
    ...(options.priority ? [{ key: caseSearchAttributes.casePriority, value: options.priority }] : []),
  ];
}

/** The line the Temporal UI shows for a case in its workflow list (user metadata "summary"). */
export function caseStaticSummary(type: CaseType, caseId: string, title: string): string {
  return `${caseId} · ${type} · ${title}`.slice(0, 200);
}
