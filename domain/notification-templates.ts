// The words Pledge sends to users, in each locale it supports. Pure: no I/O, no clock.
// A new case type adds its template ids to `templateIds` and its texts to `templates`;
// the compiler then refuses to build until every id has every locale.

export type Locale = 'zh-CN' | 'en';

export const defaultLocale: Locale = 'zh-CN';

export const templateIds = [
  'complaint.received',
  'complaint.acknowledged',
  'complaint.resolved',
  'complaint.closed',
] as const;

export type TemplateId = (typeof templateIds)[number];

export interface MessageText {
  subject: string;
  body: string;
}

export interface RenderedNotification extends MessageText {
  locale: Locale;
}

/** Texts use `{param}` placeholders; every placeholder must be given when rendering. */
const templates: Record<TemplateId, Record<Locale, MessageText>> = {
  // C1: the case number is given at once.
  'complaint.received': {
    'zh-CN': {
      subject: '我们已收到您的投诉（案件编号 {caseId}）',
      body:
        '您好：\n\n我们已收到您的投诉，案件编号为 {caseId}。\n投诉内容：{summary}\n\n' +
        '我们会尽快答复您。您可随时凭案件编号查询处理进度。',
    },
    en: {
      subject: 'We have received your complaint (case {caseId})',
      body:
        'Hello,\n\nWe have received your complaint. Your case number is {caseId}.\nYour complaint: {summary}\n\n' +
        'We will reply as soon as possible. You can check the progress at any time with your case number.',
    },
  },
  // C3/C4: the first response carries the agent's own words.
  'complaint.acknowledged': {
    'zh-CN': {
      subject: '您的投诉正在处理（案件编号 {caseId}）',
      body: '您好：\n\n关于您的投诉（案件编号 {caseId}），客服人员回复如下：\n\n{message}',
    },
    en: {
      subject: 'Your complaint is being handled (case {caseId})',
      body: 'Hello,\n\nAbout your complaint (case {caseId}), our agent writes:\n\n{message}',
    },
  },
  // C7: the processing result; C10/C11: the user may rate or dispute it.
  'complaint.resolved': {
    'zh-CN': {
      subject: '您的投诉已有处理结果（案件编号 {caseId}）',
      body:
        '您好：\n\n您的投诉（案件编号 {caseId}）处理结果如下：\n\n{message}\n\n' +
        '欢迎对本次处理进行评价；如对结果有异议，可提出申诉。',
    },
    en: {
      subject: 'Your complaint has been resolved (case {caseId})',
      body:
        'Hello,\n\nThe result of your complaint (case {caseId}):\n\n{message}\n\n' +
        'Please rate how we handled it; if you disagree with the result, you can dispute it.',
    },
  },
  'complaint.closed': {
    'zh-CN': {
      subject: '您的投诉已结案（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）已结案。感谢您的反馈。',
    },
    en: {
      subject: 'Your complaint is closed (case {caseId})',
      body: 'Hello,\n\nYour complaint (case {caseId}) is now closed. Thank you for your feedback.',
    },
  },
};

const placeholder = /\{(\w+)\}/g;

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
export function renderNotification(
  templateId: TemplateId,
  locale: string,
  params: Record<string, string>,
): RenderedNotification {
  const resolvedLocale = resolveLocale(locale);
  const text = templates[templateId]?.[resolvedLocale];
  if (!text) throw new Error(`Unknown notification template '${templateId}': add it to domain/notification-templates.ts`);
  const fill = (source: string) =>
    source.replace(placeholder, (_, name: string) => {
      const value = params[name];
      if (value === undefined) {
        throw new Error(`Notification template '${templateId}' needs param '${name}', which was not given`);
      }
      return value;
    });
  return { locale: resolvedLocale, subject: fill(text.subject), body: fill(text.body) };
}

// en-GB gives day-month-year with a 24-hour clock ("23 Nov 2026, 14:00"), unambiguous worldwide.
const intlLocales: Record<Locale, string> = { 'zh-CN': 'zh-CN', en: 'en-GB' };

/** A deadline as users read it, e.g. "2026年11月23日 14:00（中国标准时间）" or "23 Nov 2026, 14:00 (China Standard Time)". */
export function formatDateTime(iso: string, locale: Locale, timeZone: string): string {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) throw new Error(`formatDateTime needs an ISO 8601 timestamp, got '${iso}'`);
  const dateTime = new Intl.DateTimeFormat(intlLocales[locale], {
    timeZone,
    year: 'numeric',
    month: locale === 'en' ? 'short' : 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
  const zoneName = new Intl.DateTimeFormat(intlLocales[locale], { timeZone, timeZoneName: 'long' })
    .formatToParts(instant)
    .find((part) => part.type === 'timeZoneName')?.value;
  if (!zoneName) return dateTime;
  return locale === 'en' ? `${dateTime} (${zoneName})` : `${dateTime}（${zoneName}）`;
}
