// The words Pledge sends to users, in each locale it supports. Pure: no I/O, no clock.
// Each case type keeps its texts in domain/templates/<type>.ts; `satisfies TemplateSet` there
// refuses to build until every template has every locale.

import { complaintTemplates } from './templates/complaint';
import { claimTemplates } from './templates/claim';
import { incidentTemplates } from './templates/incident';
import { changeTemplates } from './templates/change';
import { terminationTemplates } from './templates/termination';
import { dataRequestTemplates } from './templates/data-request';
import type { Locale, MessageText } from './templates/template-set';

export type { Locale, MessageText };

export const defaultLocale: Locale = 'zh-CN';

const templates = { ...complaintTemplates, ...incidentTemplates, ...claimTemplates, ...changeTemplates, ...terminationTemplates, ...dataRequestTemplates };

export const templateIds = Object.keys(templates) as TemplateId[];

export type TemplateId = keyof typeof templates;

export interface RenderedNotification extends MessageText {
  locale: Locale;
}

const placeholder = /\{(\w+)\}/g;

/**
 * A message that cannot be rendered: an unknown template, a missing param, a timestamp that is
 * not one. A bug or bad data, not an outage: retrying gives the same answer.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Maps a stored or requested locale tag ('en-US', 'zh_Hans', 'fr') to one we have texts for. */
export function resolveLocale(requested: string): Locale {
  const language = requested.trim().toLowerCase().split(/[-_]/)[0];
  return language === 'en' ? 'en' : defaultLocale;
}

/** The placeholders a template needs, so callers and tests can check params before rendering. */
export function templateParams(templateId: TemplateId): string[] {
  const names = new Set<string>();
  for (const text of Object.values(templates[templateId])) {
    for (const match of `${text.subject}\n${text.body}`.matchAll(placeholder)) names.add(match[1]!);
  }
  return [...names];
}

/** Throws, naming the param, rather than ever sending a literal `{param}` to a user. */
export function renderNotification(templateId: TemplateId, locale: string, params: Record<string, string>): RenderedNotification {
  const resolvedLocale = resolveLocale(locale);
  const text = templates[templateId]?.[resolvedLocale];
  if (!text) throw new TemplateError(`Unknown notification template '${templateId}': add it to domain/notification-templates.ts`);
  const fill = (source: string) =>
    source.replace(placeholder, (_, name: string) => {
      const value = params[name];
      if (value === undefined) {
        throw new TemplateError(`Notification template '${templateId}' needs param '${name}', which was not given`);
      }
      return value;
    });
  return { locale: resolvedLocale, subject: fill(text.subject), body: fill(text.body) };
}

/**
 * C8: every message about a case ends with where the user follows it. The outbox renders the line
 * with `trackingCodeToken` in the URL; the code of the (case, customer) replaces it when the row is
 * queued, in the same transaction that creates the code.
 */
export const trackingCodeToken = '{trackingCode}';

const trackingLines: Record<Locale, string> = { 'zh-CN': '查询进度：{url}', en: 'Follow your case: {url}' };

/** The tracking line in the message's locale, e.g. "查询进度：https://pledge.example/track/…". */
export function trackingLinkLine(locale: string, url: string): string {
  return trackingLines[resolveLocale(locale)].replace('{url}', () => url);
}

/** The body as sent: the rendered text, a blank line, and the tracking line with its code. */
export function withTrackingLine(body: string, trackingLine: string, code: string): string {
  return `${body}\n\n${trackingLine.replaceAll(trackingCodeToken, () => code)}`;
}

// en-GB gives day-month-year with a 24-hour clock ("23 Nov 2026, 14:00"), unambiguous worldwide.
const intlLocales: Record<Locale, string> = { 'zh-CN': 'zh-CN', en: 'en-GB' };

/** A deadline as users read it, e.g. "2026年11月23日 14:00（中国标准时间）" or "23 Nov 2026, 14:00 (China Standard Time)". */
export function formatDateTime(iso: string, locale: Locale, timeZone: string): string {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) throw new TemplateError(`formatDateTime needs an ISO 8601 timestamp, got '${iso}'`);
  const dateTime = new Intl.DateTimeFormat(intlLocales[locale], {
    timeZone,
    year: 'numeric',
    month: locale === 'en' ? 'short' : 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
  const zoneName = new Intl.DateTimeFormat(intlLocales[locale], { timeZone, timeZoneName: 'long' }).formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value;
  if (!zoneName) return dateTime;
  return locale === 'en' ? `${dateTime} (${zoneName})` : `${dateTime}（${zoneName}）`;
}
