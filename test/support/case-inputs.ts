import { shippedCalendarYears } from '../../config/calendar';
import type { ComplaintInput } from '../../domain/complaint-case';
import { defaultComplaintSlaPolicy } from '../../domain/sla-policy';
import type { WorkingCalendar } from '../../domain/working-calendar';

/** The published calendar as shipped; tests that need an uncovered year take it out themselves. */
export const shippedCalendar: WorkingCalendar = { version: 'chinese-days (test)', years: shippedCalendarYears() };

/** A complaint as the API would open it (billing, P3, the shipped policy and calendar), with overrides. */
export function complaintInput(caseId: string, overrides: Partial<ComplaintInput> = {}): ComplaintInput {
  return {
    caseId,
    customerId: 'cust-1',
    channel: 'web',
    category: 'billing',
    priority: 'P3',
    priorityReason: 'test',
    major: false,
    summary: 'Charged twice for November',
    description: '',
    openedBy: { id: 'agent/test', role: 'agent' },
    policy: defaultComplaintSlaPolicy,
    timeZone: 'Asia/Shanghai',
    calendar: shippedCalendar,
    ...overrides,
  };
}
