import nodemailer from 'nodemailer';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

/** What the dispatcher needs from a mail transport; a nodemailer transporter fits. */
export interface Mailer {
  sendMail(message: OutgoingMail): Promise<unknown>;
  close(): void;
}

/**
 * A pooled transport for `SMTP_URL` (e.g. smtp://mail.example:1025): up to `connections` SMTP
 * sessions, each reused for many messages, so a fan-out is not one handshake per mail. Without
 * `SMTP_URL` there is no mailer at all and the dispatcher records e-mail as not sent.
 */
export function createMailer(smtpUrl: string, options: { connections?: number } = {}): Mailer {
  // nodemailer waits up to 10 minutes on a silent socket by default; the dispatcher's lease
  // must outlast a whole batch of sends, so a stuck server fails fast instead.
  return nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: options.connections ?? 8,
    maxMessages: Number.POSITIVE_INFINITY,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}
