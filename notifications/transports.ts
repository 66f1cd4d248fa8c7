import type { Env } from '../config';
import type { Sql } from '../db/sql';
import { parseStaffRoutes, staffWebhookSecret } from '../domain/staff-routes';
import type { ChannelTransports, DispatcherLog } from './dispatcher';
import { createMailer } from './mailer';
import { createReceiptRecorder } from './receipts';
import { createSmppSender } from './sms';
import { createWebhookSender } from './webhook';

export interface Transports {
  transports: ChannelTransports;
  /** What is configured, for the start-up line. */
  summary: string;
  close(): Promise<void>;
}

/**
 * The channels this deployment can reach people on, from its settings: SMTP_URL (e-mail),
 * SMPP_URL (SMS, receipts recorded as they arrive), PLEDGE_STAFF_ROUTES (webhooks). A channel
 * left unset is not faked: its messages are recorded as not sent and fall back.
 */
export function createTransports(env: Env, sql: Sql, log: Exclude<DispatcherLog, (message: string) => void>): Transports {
  const routes = parseStaffRoutes(env.PLEDGE_STAFF_ROUTES);
  const mailer = env.SMTP_URL ? createMailer(env.SMTP_URL) : undefined;
  const sms = env.SMPP_URL ? createSmppSender({ url: env.SMPP_URL, senderId: env.SMS_SENDER_ID, onReceipt: createReceiptRecorder(sql), log }) : undefined;
  const hasWebhooks = Object.values(routes).some((route) => route.webhook);
  const transports: ChannelTransports = {
    ...(mailer ? { mail: { mailer, from: env.MAIL_FROM } } : {}),
    ...(sms ? { sms: { sender: sms } } : {}),
    ...(hasWebhooks ? { webhook: { sender: createWebhookSender({ secretFor: (url) => staffWebhookSecret(routes, url) }) } } : {}),
  };
  const summary = `e-mail ${mailer ? 'via SMTP' : 'not sent (SMTP_URL unset)'}, SMS ${sms ? 'via SMPP' : 'not sent (SMPP_URL unset)'}, staff webhooks ${hasWebhooks ? 'on' : 'none configured'}`;
  return {
    transports,
    summary,
    async close() {
      mailer?.close();
      await sms?.close();
    },
  };
}
