import { z } from 'zod';
import { nonBlank, type ActionTable, type ActionUnion } from './case-actions';
import { instantSince1970, pastInstant } from './instants';
import { priorities, type Priority } from './priority';

/** C1: every channel a complaint can arrive through. */
export const complaintChannels = ['web', 'app', 'email', 'phone', 'chat', 'api'] as const;
/** C2: complaint categories; account security is always handled first. */
export const complaintCategories = ['account-security', 'billing', 'network-quality', 'service-quality', 'privacy', 'content', 'other'] as const;
export type ComplaintCategory = (typeof complaintCategories)[number];

export const complaintStatuses = ['received', 'acknowledged', 'awaiting-customer', 'preliminary-reported', 'resolved', 'disputed', 'referred', 'closed'] as const;
export type ComplaintStatus = (typeof complaintStatuses)[number];

export const complaintIntakeSchema = z
  .object({
    customerId: z.string().min(1).max(64),
    channel: z.enum(complaintChannels),
    category: z.enum(complaintCategories),
    priority: z.enum(priorities).optional(),
    /** C5: a major (complex) issue owes a full response within 48 hours. */
    major: z.boolean().default(false),
    summary: z.string().trim().min(1).meta(nonBlank).max(200),
    description: z.string().max(5000).default(''),
    /** When the user actually complained, if earlier than intake (e.g. an e-mail read later). */
    receivedAt: pastInstant(365).optional(),
  })
  // C2 (complaintPriorityRefusal, checked by the API): an account-security complaint is P1 or leaves the priority out.
  .meta({ anyOf: [{ properties: { category: { enum: complaintCategories.filter((category) => category !== 'account-security') } } }, { properties: { priority: { const: 'P1' } } }] });
export type ComplaintIntake = z.infer<typeof complaintIntakeSchema>;

/** C2: an explicit priority from staff wins; account security defaults to P1; others to P3. */
export function classifyComplaintPriority(category: ComplaintCategory, requested?: Priority): { priority: Priority; reason: string } {
  if (requested) return { priority: requested, reason: 'set by staff at intake' };
  if (category === 'account-security') return { priority: 'P1', reason: 'account security is handled first (C2)' };
  return { priority: 'P3', reason: `default for ${category}` };
}

/** The clocks a complaint runs, by name. */
export const complaintClocks = {
  firstResponse: 'firstResponse',
  fullResponse: 'fullResponse',
  preliminary: 'preliminary',
  result: 'result',
} as const;

const staff = ['agent', 'supervisor'] as const;
// Actions the user takes (rate, dispute, reopen, reply, withdraw) reach Pledge through staff or a
// customer-facing app holding an agent key; the actor records who pressed the button.
const onBehalfOfUser = ['agent', 'supervisor', 'customer'] as const;
const inProgress = ['received', 'acknowledged', 'awaiting-customer', 'preliminary-reported'] as const;
const notClosed = [...inProgress, 'resolved', 'disputed', 'referred'] as const;
const text = (max = 4000) => z.string().trim().min(1).meta(nonBlank).max(max);

/**
 * C13: every response states the problem as understood, the handling steps and the expected
 * completion time. Required of new requests; optional where the workflow applies an action, so
 * responses recorded before the rule still replay.
 */
const responseContent = {
  problem: text(2000).describe('the problem as understood (C13)'),
  steps: text(4000).describe('the handling steps taken and to come (C13)'),
  expectedCompletionAt: z.iso.datetime({ offset: true }).describe('when the user can expect completion (C13)'),
};
const withResponse = <Shape extends z.ZodRawShape>(shape: Shape) => ({
  input: z.object({ ...shape, ...z.object(responseContent).partial().shape }),
  // New requests date the expected completion from 1970 on (instantSince1970); `input` keeps what was recorded.
  request: z.object({ ...shape, ...responseContent, expectedCompletionAt: instantSince1970().describe('when the user can expect completion (C13)') }),
});

/** C2: account security is always handled first; staff may raise other priorities, never lower this one. */
export function complaintPriorityRefusal(category: ComplaintCategory, priority: Priority | undefined): string | undefined {
  if (category === 'account-security' && priority !== undefined && priority !== 'P1') return 'an account-security complaint is always P1 (C2)';
  return undefined;
}

export const complaintActions = {
  acknowledge: {
    roles: staff,
    from: ['received'],
    ...withResponse({ message: text() }),
    describe: 'first response to the user (C3/C4), with the problem as understood, the steps and the expected completion (C13)',
  },
  assign: {
    roles: staff,
    from: notClosed,
    input: z.object({ assignee: text(120) }),
    describe: 'hand the case to an agent or team',
  },
  note: {
    roles: staff,
    from: notClosed,
    input: z.object({ text: text() }),
    describe: 'internal note, not shown to the user',
  },
  'request-info': {
    roles: staff,
    from: ['received', 'acknowledged', 'preliminary-reported'],
    input: z.object({ question: text() }),
    describe: 'ask the user for information; the clocks pause until they answer',
  },
  'customer-reply': {
    roles: onBehalfOfUser,
    from: ['awaiting-customer'],
    input: z.object({ message: text() }),
    describe: "the user's answer; the clocks resume",
  },
  'report-preliminary': {
    roles: staff,
    from: ['received', 'acknowledged'],
    ...withResponse({ finding: text() }),
    describe: 'report the preliminary investigation to the user (C6)',
  },
  resolve: {
    roles: staff,
    from: ['received', 'acknowledged', 'preliminary-reported'],
    ...withResponse({ resolution: text() }),
    describe: 'give the processing result to the user (C7)',
  },
  rate: {
    roles: onBehalfOfUser,
    from: ['resolved', 'referred'],
    input: z.object({ rating: z.number().int().min(1).max(5), comment: z.string().trim().max(2000).optional() }),
    describe: "the user's satisfaction with the outcome, 1–5 (C10)",
  },
  dispute: {
    roles: onBehalfOfUser,
    from: ['resolved'],
    input: z.object({ reason: text() }),
    describe: 'the user disputes the result: platform arbitration (C11)',
  },
  arbitrate: {
    roles: ['supervisor'],
    from: ['disputed'],
    input: z.object({ decision: z.enum(['uphold', 'overturn']), reasons: text() }),
    describe: 'a supervisor upholds the result or overturns it and reopens the investigation (C11)',
  },
  'refer-third-party': {
    roles: staff,
    from: ['resolved'],
    input: z.object({ body: text(200), reference: text(200) }),
    describe: 'after arbitration, refer the dispute to a third party such as the industry body (C11)',
  },
  reopen: {
    roles: onBehalfOfUser,
    from: ['resolved'],
    input: z.object({ reason: text() }),
    describe: 'the user reopens a resolved complaint within the window (C12)',
  },
  withdraw: {
    roles: onBehalfOfUser,
    from: [...inProgress, 'disputed'],
    input: z.object({ reason: z.string().trim().max(2000).optional() }),
    describe: 'the user withdraws the complaint',
  },
  confirm: {
    roles: onBehalfOfUser,
    from: ['resolved'],
    input: z.object({ comment: z.string().trim().max(2000).optional() }),
    describe: 'the user confirms the result: the case closes before the dispute and reopen windows end (C11, C12)',
  },
  reclassify: {
    roles: staff,
    from: [...inProgress, 'disputed'],
    input: z
      .object({
        category: z.enum(complaintCategories).optional(),
        priority: z.enum(priorities).optional(),
        major: z.boolean().optional(),
        reason: text(1000),
      })
      // What /openapi.json says of reclassifyCheck (complaint-case.ts): something changes, and account security stays P1.
      .meta({
        allOf: [
          { anyOf: [{ required: ['category'] }, { required: ['priority'] }, { required: ['major'] }] },
          { anyOf: [{ properties: { category: { enum: complaintCategories.filter((category) => category !== 'account-security') } } }, { properties: { priority: { const: 'P1' } } }] },
        ],
      }),
    describe: 'change category, priority or major after intake; the clocks are derived again (C2, C3–C5)',
  },
  close: {
    roles: staff,
    from: ['resolved', 'referred'],
    input: z.object({ reason: z.string().trim().max(1000).optional() }),
    describe: 'close the case',
  },
} satisfies ActionTable<ComplaintStatus>;

export type ComplaintAction = ActionUnion<typeof complaintActions>;

export function complaintNextStep(status: ComplaintStatus): string | null {
  switch (status) {
    case 'received':
      return 'An agent sends the first response to the user';
    case 'acknowledged':
      return 'An agent investigates and reports the preliminary finding to the user';
    case 'awaiting-customer':
      return 'The user answers the request for information (the clocks are paused)';
    case 'preliminary-reported':
      return 'An agent gives the processing result to the user';
    case 'resolved':
      return 'The user may rate, dispute or reopen the result; otherwise the case closes at the end of the window';
    case 'disputed':
      return 'A supervisor arbitrates the dispute';
    case 'referred':
      return 'The third party decides; then the case is closed';
    case 'closed':
      return null;
  }
}
