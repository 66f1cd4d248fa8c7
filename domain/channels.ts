import { DateTime } from 'luxon';

// How a message reaches a customer: the channels they prefer, in order, those they consented to
// (D4), the address each needs, and when quiet hours let a non-urgent message go out.

export const customerChannels = ['sms', 'email', 'inbox'] as const;
export type CustomerChannel = (typeof customerChannels)[number];
/** Channels that reach someone outside the app; the in-app inbox needs neither consent nor address. */
export type ExternalChannel = Exclude<CustomerChannel, 'inbox'>;

export interface ChannelConsent {
  granted: boolean;
  recordedAt: string;
  source: string;
}

export interface QuietHours {
  /** Local "HH:MM"; a window may wrap midnight (22:00–08:00). */
  from: string;
  to: string;
}

export interface ChannelProfile {
  /** Preferred channels, first choice first; later ones are the fallbacks. */
  channels: readonly string[];
  email: string | null;
  phone: string | null;
  consents: Record<string, ChannelConsent>;
  quietHours: QuietHours | null;
  timeZone: string;
}

/**
 * Priority classes of the outbox, claimed in this order: outage and termination notices first,
 * then messages about one case, then routine reminders. A lower class is never starved past its
 * bound: once a message has waited that long it is claimed before newer urgent ones.
 */
export const priorityClasses = {
  urgent: { priority: 0, starvationBoundSeconds: 0 },
  case: { priority: 1, starvationBoundSeconds: 60 },
  routine: { priority: 2, starvationBoundSeconds: 300 },
} as const;
export type PriorityClass = keyof typeof priorityClasses;
export type Priority = (typeof priorityClasses)[PriorityClass]['priority'];

// O4/T2: the outage and termination notices (and what corrects or updates them) are urgent.
const urgentTemplate = /^(incident\.(outage-notice|update|correction)|termination\.|change\.(notice|emergency))/;
const routineTemplate = /(reminder|renewal)/;

export function priorityClassOf(templateId: string): PriorityClass {
  if (urgentTemplate.test(templateId)) return 'urgent';
  if (routineTemplate.test(templateId)) return 'routine';
  return 'case';
}

export function addressFor(channel: ExternalChannel, profile: Pick<ChannelProfile, 'email' | 'phone'>): string | null {
  return channel === 'email' ? profile.email : profile.phone;
}

export function hasConsent(channel: CustomerChannel, profile: Pick<ChannelProfile, 'consents'>): boolean {
  return channel === 'inbox' || profile.consents[channel]?.granted === true;
}

export interface DeliveryPlan {
  /** The in-app copy, which the user can always read on their tracking page. */
  inbox: true;
  /** The first external channel the customer prefers, consented to and has an address for. */
  first: { channel: ExternalChannel; recipient: string } | null;
  /** The next usable channels, tried in order if `first` fails for good or cannot be sent. */
  fallbacks: ExternalChannel[];
  /** D4: channels of a legally required notice used without the customer's consent (the message must say so). */
  withoutConsent?: ExternalChannel[];
}

/**
 * Which channels a message goes out on. D4: a channel without consent is never used, except for a
 * legally required notice (outage, termination), which goes out on the customer's channels regardless.
 */
export function deliveryPlan(profile: ChannelProfile, options: { legallyRequired?: boolean } = {}): DeliveryPlan {
  const usable = profile.channels.filter(
    (channel): channel is ExternalChannel => (channel === 'sms' || channel === 'email') && (options.legallyRequired === true || hasConsent(channel, profile)) && addressFor(channel, profile) !== null,
  );
  const unique = [...new Set(usable)];
  const [first, ...fallbacks] = unique;
  const withoutConsent = unique.filter((channel) => !hasConsent(channel, profile));
  return { inbox: true, first: first ? { channel: first, recipient: addressFor(first, profile)! } : null, fallbacks, ...(withoutConsent.length > 0 ? { withoutConsent } : {}) };
}

/** When a message of this class may go out on an external channel: urgent ones at once, others after the customer's quiet hours. */
export function notBeforeMs(atMs: number, priorityClass: PriorityClass, profile: Pick<ChannelProfile, 'quietHours' | 'timeZone'>): number {
  if (priorityClass === 'urgent' || !profile.quietHours) return atMs;
  return quietHoursEndMs(atMs, profile.quietHours, profile.timeZone) ?? atMs;
}

/** The end of the quiet window `atMs` falls in, or undefined when it falls in none. */
export function quietHoursEndMs(atMs: number, quietHours: QuietHours, timeZone: string): number | undefined {
  const [fromHour, fromMinute] = quietHours.from.split(':').map(Number) as [number, number];
  const [toHour, toMinute] = quietHours.to.split(':').map(Number) as [number, number];
  const local = DateTime.fromMillis(atMs, { zone: timeZone });
  const minute = local.hour * 60 + local.minute;
  const from = fromHour * 60 + fromMinute;
  const to = toHour * 60 + toMinute;
  if (from === to) return undefined;
  const wraps = from > to;
  const inQuiet = wraps ? minute >= from || minute < to : minute >= from && minute < to;
  if (!inQuiet) return undefined;
  const endDay = wraps && minute >= from ? local.plus({ days: 1 }) : local;
  return endDay.set({ hour: toHour, minute: toMinute, second: 0, millisecond: 0 }).toMillis();
}

/**
 * D4: the consents after a change: a channel whose answer changed (or is new) is stamped now with
 * its source; an unchanged answer keeps when and where it was first given; channels not mentioned stay.
 */
export function recordConsents(
  previous: Readonly<Record<string, ChannelConsent>>,
  changes: Readonly<Record<string, { granted: boolean; source: string } | undefined>>,
  nowIso: string,
): Record<string, ChannelConsent> {
  const result: Record<string, ChannelConsent> = {};
  for (const [channel, consent] of Object.entries(previous)) if (consent) result[channel] = consent;
  for (const [channel, change] of Object.entries(changes)) {
    if (!change) continue;
    if (result[channel]?.granted === change.granted) continue;
    result[channel] = { granted: change.granted, recordedAt: nowIso, source: change.source };
  }
  return result;
}
