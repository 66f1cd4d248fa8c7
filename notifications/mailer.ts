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
 * A transport for `SMTP_URL` (e.g. smtp://mail.example:1025). Without one, messages are
 * composed but only logged, so a developer's stack never mails a real customer.
 */
export function createMailer(smtpUrl: string | undefined, log: (line: string) => void = console.log): Mailer {
  if (smtpUrl) {
    // nodemailer waits up to 10 minutes on a silent socket by default; the dispatcher's lease
    // must outlast a whole batch of sends, so a stuck server fails fast instead.
    return nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  }
  const composeOnly = nodemailer.createTransport({ jsonTransport: true });
  return {
    async sendMail(message) {
      const info = await composeOnly.sendMail(message);
      log(`mail not sent (SMTP_URL is unset): to=${message.to} subject=${JSON.stringify(message.subject)}`);
      return info;
    },
    close: () => composeOnly.close(),
  };
}
