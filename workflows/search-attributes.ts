import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes every case workflow sets at start and upserts on every change. */
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
