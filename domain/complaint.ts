import { z } from 'zod';
import type { ActionTable } from './case-actions';
import { priorities, type Priority } from './priority';

/** C1: every channel a complaint can arrive through. */
export const complaintChannels = ['web', 'app', 'email', 'phone', 'chat', 'api'] as const;
/** C2: complaint categories; account security is always handled first. */
export const complaintCategories = [
  'account-security',
  'billing',
  'network-quality',
  'service-quality',
  'privacy',
  'content',
  'other',
] as const;
export type ComplaintCategory = (typeof complaintCategories)[number];

export const complaintStatuses = ['received', 'acknowledged', 'resolved', 'closed'] as const;
export type ComplaintStatus = (typeof complaintStatuses)[number];

export const complaintIntakeSchema = z.object({
  customerId: z.string().min(1).max(64),
  channel: z.enum(complaintChannels),
  category: z.enum(complaintCategories),
  priority: z.enum(priorities).optional(),
  major: z.boolean().default(false),
  summary: z.string().trim().min(1).max(200),
  description: z.string().max(5000).default(''),
  /** When the user actually complained, if earlier than intake (e.g. an e-mail read later). */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
});
export type ComplaintIntake = z.infer<typeof complaintIntakeSchema>;

/** C2: an explicit priority from staff wins; account security defaults to P1; others to P3. */
export function classifyComplaintPriority(category: ComplaintCategory, requested?: Priority): { priority: Priority; reason: string } {
  if (requested) return { priority: requested, reason: 'set by staff at intake' };
  if (category === 'account-security') return { priority: 'P1', reason: 'account security is handled first (C2)' };
  return { priority: 'P3', reason: `default for ${category}` };
}

const staff = ['agent', 'supervisor'] as const;
const open = ['received', 'acknowledged'] as const;

export const complaintActions: ActionTable<ComplaintStatus> = {
  acknowledge: {
    roles: staff,
    from: ['received'],
    input: z.object({ message: z.string().trim().min(1).max(4000) }),
    describe: 'first response to the user (C3/C4)',
  },
  note: {
    roles: staff,
    from: [...open, 'resolved'],
    input: z.object({ text: z.string().trim().min(1).max(4000) }),
    describe: 'internal note, not shown to the user',
  },
  resolve: {
    roles: staff,
    from: open,
    input: z.object({ resolution: z.string().trim().min(1).max(4000) }),
    describe: 'give the processing result to the user',
  },
  close: {
    roles: staff,
    from: ['resolved'],
    input: z.object({ reason: z.string().trim().max(1000).optional() }),
    describe: 'close a resolved complaint',
  },
};

export function complaintNextStep(status: ComplaintStatus): string | null {
  switch (status) {
    case 'received':
      return 'An agent sends the first response to the user';
    case 'acknowledged':
      return 'An agent investigates and gives the result to the user';
    case 'resolved':
      return 'The case is closed';
    case 'closed':
      return null;
  }
}
