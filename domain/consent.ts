import { z } from 'zod';
import type { ChannelConsent } from './channels';
import { resolveLocale } from './notification-templates';
import { nonBlank } from './case-actions';

// D4: consent per purpose and per channel, each answer recorded with its time and source. The
// `service-notices` answers are the per-channel consents the outbox reads (customers.consents);
// the other purposes are recorded for the systems that use them (Pledge itself sends no marketing).

export const consentPurposes = ['service-notices', 'marketing', 'surveys'] as const;
export type ConsentPurpose = (typeof consentPurposes)[number];

/** The purpose whose answers decide whether Pledge's own messages use a channel. */
export const outboxPurpose: ConsentPurpose = 'service-notices';

export const consentChannels = ['sms', 'email'] as const;
export type ConsentChannel = (typeof consentChannels)[number];

const answers = z.object({ sms: z.boolean().optional(), email: z.boolean().optional() }).strict();

/** PUT /v1/customers/{id}/consents: the answers given, and where (the form, call or letter they came from). */
export const consentChangeSchema = z.object({
  source: z.string().trim().min(1).meta(nonBlank).max(200),
  consents: z
    .object(Object.fromEntries(consentPurposes.map((purpose) => [purpose, answers.optional()])) as Record<ConsentPurpose, z.ZodOptional<typeof answers>>)
    .strict()
    .refine((consents) => Object.values(consents).some((channels) => channels && Object.keys(channels).length > 0), 'give at least one answer: { "<purpose>": { "<channel>": true|false } }')
    .meta({ anyOf: consentPurposes.map((purpose) => ({ required: [purpose], properties: { [purpose]: { minProperties: 1 } } })) }),
});
export type ConsentChange = z.infer<typeof consentChangeSchema>;

/** One answer of a change, flattened. */
export interface ConsentAnswer {
  purpose: ConsentPurpose;
  channel: ConsentChannel;
  granted: boolean;
}

export function consentAnswers(change: ConsentChange): ConsentAnswer[] {
  return consentPurposes.flatMap((purpose) =>
    consentChannels.flatMap((channel) => {
      const granted = change.consents[purpose]?.[channel];
      return granted === undefined ? [] : [{ purpose, channel, granted }];
    }),
  );
}

/** The answers that differ from what is on record now (an unchanged answer keeps when and where it was first given). */
export function changedAnswers(answersGiven: readonly ConsentAnswer[], current: (purpose: ConsentPurpose, channel: ConsentChannel) => Pick<ChannelConsent, 'granted'> | undefined): ConsentAnswer[] {
  return answersGiven.filter((answer) => current(answer.purpose, answer.channel)?.granted !== answer.granted);
}

const legallyRequiredLines = {
  'zh-CN': '此为依法必须送达的通知：即使您未同意通过此渠道接收消息，我们仍须通过此渠道告知您。',
  en: 'This notice is required by law: it reaches you on this channel even though you have not agreed to receive messages here.',
} as const;

/** D4: what a legally required notice (outage, termination) adds when it goes out on a channel without consent. */
export function legallyRequiredNoticeLine(locale: string): string {
  return legallyRequiredLines[resolveLocale(locale)];
}
