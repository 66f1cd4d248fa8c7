import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import smpp, { type PDU, type PduFields, type Session, type ShortMessage } from 'smpp';
import { smsParts } from './sms-parts';

// The SMS channel: one SMPP transceiver session shared by every send, which also carries the
// delivery receipts back.
//
// - The session opens on the first send. When an open session drops it is reopened at once in
//   the background (receipts keep arriving) with exponential back-off between attempts; a send
//   waits for it up to `connectTimeoutMs`, then fails so that the outbox retries it later. A
//   refused bind fails the sends waiting for it straight away, and later sends until the
//   back-off has passed.
// - A send submits its parts one after another; at most `maxInFlight` submits are in flight
//   across all sends. ESME_RTHROTTLED / ESME_RMSGQFUL mean "slow down": the same part is
//   submitted again after a growing pause, for up to `throttleGiveUpMs`.
// - A part whose response never comes (timeout, or the connection dropped after it was written)
//   fails the send: the SMSC may have accepted it, so a retry can duplicate parts already sent.
//   The concatenation reference comes from the message's `reference`, so a resent part joins the
//   same message on the handset.

export interface SmsMessage {
  /** E.164, with or without the leading '+'. */
  to: string;
  text: string;
  /** Stable per message, used to derive the 8-bit concatenation reference. */
  reference: string;
}

export interface SmsSent {
  /** One SMSC message id per part; empty when nothing was sent (no SMPP_URL). */
  messageIds: string[];
}

export interface DeliveryReceipt {
  messageId: string;
  state: 'delivered' | 'failed';
  /** The receipt's stat as the SMSC wrote it, e.g. DELIVRD, UNDELIV, EXPIRED. */
  stat: string;
  /** The receipt's err field, when not zero. */
  error?: string;
  /** "done date", read as UTC (SMSCs rarely say which zone they mean). */
  doneAt?: Date;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<SmsSent>;
  close(): Promise<void>;
}

export interface SmsLog {
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface SmppSenderOptions {
  /** smpp://systemId:password@host:2775, or ssmpp:// for TLS (default port 3550). */
  url: string;
  /** Alphanumeric (at most 11 characters) or a number. */
  senderId: string;
  /** Called for final receipts only; while it throws, the SMSC is told to deliver the receipt again. */
  onReceipt(receipt: DeliveryReceipt): void | Promise<void>;
  log?: SmsLog;
  /** Wait for each submit_sm_resp (and enquire_link_resp). Default 10 s. */
  submitTimeoutMs?: number;
  /** Submits in flight on the shared session. Default 10. */
  maxInFlight?: number;
  /** Pause before resubmitting a throttled part, doubling. Default 1 s up to 30 s. */
  throttleBackoffMs?: { initial: number; max: number };
  /** Past this, a part still throttled fails its send. Default 2 min. */
  throttleGiveUpMs?: number;
  /** How long a send waits for the session to be (re)connected and bound. Default 15 s. */
  connectTimeoutMs?: number;
  /** Pause between connection attempts, doubling. Default 1 s up to 60 s. */
  reconnectBackoffMs?: { initial: number; max: number };
  /** Keep-alive; an unanswered enquire_link drops the connection. Default 30 s. */
  enquireLinkIntervalMs?: number;
}

/** A non-OK command_status. */
export class SmppError extends Error {
  readonly command: string;
  readonly status: number;

  constructor(command: string, status: number, detail = '') {
    super(`SMPP ${command} failed: ${statusName(status)}${detail}`);
    this.name = 'SmppError';
    this.command = command;
    this.status = status;
  }
}

export function parseSmppUrl(url: string): { host: string; port: number; systemId: string; password: string; tls: boolean } {
  const parsed = new URL(url);
  const tls = parsed.protocol === 'ssmpp:';
  if (!tls && parsed.protocol !== 'smpp:') throw new Error(`SMPP URL must start with smpp:// or ssmpp://, got ${parsed.protocol}//`);
  const systemId = decodeURIComponent(parsed.username);
  if (!parsed.hostname || !systemId) throw new Error('SMPP URL needs a system id and a host: smpp://systemId:password@host:port');
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : tls ? 3550 : 2775, systemId, password: decodeURIComponent(parsed.password), tls };
}

/** Used when SMPP_URL is unset: nothing leaves the machine. */
export function createLoggingSmsSender(log: (line: string) => void): SmsSender {
  return {
    async send(message) {
      const { dataCoding, parts } = smsParts(message.text, concatenationReference(message.reference));
      log(`sms not sent (SMPP_URL is unset): to=${message.to} parts=${parts.length} data_coding=${dataCoding} text=${JSON.stringify(message.text)}`);
      return { messageIds: [] };
    },
    async close() {},
  };
}

const finalStates: Record<string, DeliveryReceipt['state']> = {
  DELIVRD: 'delivered',
  DELIVERED: 'delivered',
  UNDELIV: 'failed',
  UNDELIVERABLE: 'failed',
  REJECTD: 'failed',
  REJECTED: 'failed',
  EXPIRED: 'failed',
  DELETED: 'failed',
};

/** The message_state TLV, as the stat a text receipt would carry. */
const statByMessageState = new Map<number, string>([
  [smpp.MESSAGE_STATE.ENROUTE, 'ENROUTE'],
  [smpp.MESSAGE_STATE.DELIVERED, 'DELIVRD'],
  [smpp.MESSAGE_STATE.EXPIRED, 'EXPIRED'],
  [smpp.MESSAGE_STATE.DELETED, 'DELETED'],
  [smpp.MESSAGE_STATE.UNDELIVERABLE, 'UNDELIV'],
  [smpp.MESSAGE_STATE.ACCEPTED, 'ACCEPTD'],
  [smpp.MESSAGE_STATE.UNKNOWN, 'UNKNOWN'],
  [smpp.MESSAGE_STATE.REJECTED, 'REJECTD'],
  [smpp.MESSAGE_STATE.SKIPPED, 'SKIPPED'],
]);

/**
 * Reads a delivery receipt: the SMPP 3.4 appendix B text ("id:… sub:… dlvrd:… submit date:…
 * done date:… stat:… err:… text:…"), with the receipted_message_id and message_state TLVs taking
 * precedence when present. Undefined unless the state is final (ENROUTE, ACCEPTD, UNKNOWN… are
 * not) and the message id is known.
 */
export function parseDeliveryReceipt(text: string, tlvs: { receiptedMessageId?: string; messageState?: number } = {}): DeliveryReceipt | undefined {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1];
  const messageId = tlvs.receiptedMessageId || field('id');
  const stat = (tlvs.messageState !== undefined ? statByMessageState.get(tlvs.messageState) : undefined) ?? field('stat')?.toUpperCase();
  const state = stat ? finalStates[stat] : undefined;
  if (!messageId || !stat || !state) return undefined;
  const error = field('err');
  const doneAt = receiptDate(field('done date'));
  return { messageId, state, stat, ...(error && !/^0+$/.test(error) ? { error } : {}), ...(doneAt ? { doneAt } : {}) };
}

/** YYMMDDhhmm[ss] */
function receiptDate(value: string | undefined): Date | undefined {
  const match = value ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?$/.exec(value) : null;
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((digits) => Number(digits ?? 0)) as [number, number, number, number, number, number];
  return new Date(Date.UTC(2000 + year, month - 1, day, hour, minute, second));
}

export function createSmppSender(options: SmppSenderOptions): SmsSender {
  const server = parseSmppUrl(options.url);
  const log = options.log ?? consoleLog;
  const submitTimeoutMs = options.submitTimeoutMs ?? 10_000;
  const throttleBackoff = options.throttleBackoffMs ?? { initial: 1_000, max: 30_000 };
  const throttleGiveUpMs = options.throttleGiveUpMs ?? 120_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const reconnectBackoff = options.reconnectBackoffMs ?? { initial: 1_000, max: 60_000 };
  const enquireLinkIntervalMs = options.enquireLinkIntervalMs ?? 30_000;
  const source = sourceAddress(options.senderId);
  const inWindow = createWindow(options.maxInFlight ?? 10);
  const where = `${server.host}:${server.port}`;

  /** A bound session, and the rejections of its submits still waiting for a response. */
  interface Link {
    session: Session;
    unanswered: Set<(error: Error) => void>;
  }

  const shutdown = new AbortController();
  let link: Link | undefined;
  let connecting: Promise<Link> | undefined;
  let refusal: { error: Error; until: number } | undefined;
  let lastConnectError: Error | undefined;
  let reconnectDelay = reconnectBackoff.initial;
  let nextAttemptAt = 0;

  function closedError(): Error {
    return new Error('SMS sender is closed');
  }

  function connected(): Promise<Link> {
    if (shutdown.signal.aborted) return Promise.reject(closedError());
    if (link) return Promise.resolve(link);
    if (refusal && Date.now() < refusal.until) return Promise.reject(refusal.error);
    return withTimeout(reconnect(), connectTimeoutMs, () => new Error(`SMPP ${where} not connected within ${connectTimeoutMs} ms${lastConnectError ? ` (${lastConnectError.message})` : ''}`));
  }

  /** The one connection attempt loop, shared by every send waiting for it. */
  function reconnect(): Promise<Link> {
    connecting ??= connectWithBackoff().finally(() => (connecting = undefined));
    return connecting;
  }

  async function connectWithBackoff(): Promise<Link> {
    for (;;) {
      const pause = nextAttemptAt - Date.now();
      if (pause > 0) await sleep(pause, undefined, { signal: shutdown.signal }).catch(() => undefined);
      if (shutdown.signal.aborted) throw closedError();
      try {
        const session = await openSession();
        if (shutdown.signal.aborted) {
          session.destroy();
          throw closedError();
        }
        reconnectDelay = reconnectBackoff.initial;
        lastConnectError = refusal = undefined;
        link = adopt(session);
        return link;
      } catch (error) {
        if (shutdown.signal.aborted) throw closedError();
        backOff();
        if (error instanceof SmppError) {
          refusal = { error, until: nextAttemptAt };
          throw error;
        }
        lastConnectError = error as Error;
        log.warn({ server: where, error: lastConnectError.message, retryInMs: nextAttemptAt - Date.now() }, 'SMPP connection failed');
      }
    }
  }

  function backOff(): void {
    nextAttemptAt = Date.now() + reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, reconnectBackoff.max);
  }

  /** Connects and binds as a transceiver; rejects with an SmppError when the bind is refused. */
  function openSession(): Promise<Session> {
    return new Promise((resolve, reject) => {
      const session = smpp.connect({ host: server.host, port: server.port, tls: server.tls });
      let socketError: Error | undefined;
      let failure: Error | undefined;
      const fail = (error: Error) => {
        failure ??= error;
        session.destroy();
      };
      const timer = setTimeout(() => fail(new Error(`SMPP connect and bind to ${where} took over ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        reject(failure ?? socketError ?? new Error(`SMPP ${where} closed the connection during bind`));
      };
      session.on('error', (error: Error) => (socketError = error));
      session.once('close', onClose);
      session.once(server.tls ? 'secureConnect' : 'connect', () => {
        // Without it Nagle holds each submit behind the previous one's delayed ACK, and the window shrinks to 1.
        session.socket.setNoDelay(true);
        session.bind_transceiver({ system_id: server.systemId, password: server.password }, (response) => {
          if (response.command_status !== smpp.ESME_ROK) return fail(new SmppError('bind_transceiver', response.command_status, ` (system id ${server.systemId} at ${where})`));
          clearTimeout(timer);
          session.removeListener('close', onClose);
          // An SMSC often sends queued receipts right behind the bind response: hold them until adopt() listens.
          session.pause();
          resolve(session);
        });
      });
    });
  }

  function adopt(session: Session): Link {
    const current: Link = { session, unanswered: new Set() };
    const keepAlive = setInterval(() => probe(session), enquireLinkIntervalMs);
    session.on('error', (error: Error) => log.warn({ server: where, error: error.message }, 'SMPP connection error'));
    session.on('deliver_sm', (pdu: PDU) => void answerDeliverSm(session, pdu));
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unknown', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => session.send(pdu.response(), () => session.close()));
    session.once('close', () => {
      clearInterval(keepAlive);
      if (link === current) link = undefined;
      const dropped = new Error(`SMPP connection to ${where} closed before submit_sm_resp; the part may have been accepted`);
      for (const reject of current.unanswered) reject(dropped);
      if (shutdown.signal.aborted) return;
      backOff();
      log.warn({ server: where, retryInMs: nextAttemptAt - Date.now() }, 'SMPP connection dropped; reconnecting');
      reconnect().catch((error: Error) => {
        if (!shutdown.signal.aborted) log.error({ server: where, error: error.message }, 'SMPP reconnect gave up; the next send tries again');
      });
    });
    session.resume();
    return current;
  }

  function probe(session: Session): void {
    const unanswered = setTimeout(() => {
      log.warn({ server: where }, `SMPP enquire_link unanswered for ${submitTimeoutMs} ms; dropping the connection`);
      session.destroy();
    }, submitTimeoutMs).unref();
    if (!session.enquire_link(() => clearTimeout(unanswered))) clearTimeout(unanswered);
  }

  async function answerDeliverSm(session: Session, pdu: PDU): Promise<void> {
    let status = smpp.ESME_ROK;
    try {
      const receipt = isReceipt(pdu) ? receiptOf(pdu) : undefined;
      if (receipt) await options.onReceipt(receipt);
    } catch (error) {
      // A temporary application error asks the SMSC to deliver the receipt again later.
      status = smpp.ESME_RX_T_APPN;
      log.error({ server: where, error: (error as Error).message }, 'SMS delivery receipt not recorded');
    }
    session.send(pdu.response({ command_status: status }));
  }

  /** Resolves with the SMSC's response, whatever its status; rejects when none comes. */
  function submitOnce(current: Link, fields: PduFields): Promise<PDU | 'not-written'> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        current.unanswered.delete(fail);
      };
      const fail = (error: Error) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`SMPP submit_sm to ${where} got no response within ${submitTimeoutMs} ms`)), submitTimeoutMs);
      current.unanswered.add(fail);
      const written = current.session.submit_sm(fields, (response) => {
        settle();
        resolve(response);
      });
      if (!written) {
        settle();
        resolve('not-written');
      }
    });
  }

  async function submitPart(fields: PduFields): Promise<string> {
    const giveUpAt = Date.now() + throttleGiveUpMs;
    let pause = throttleBackoff.initial;
    for (;;) {
      const current = await connected();
      const response = await submitOnce(current, fields);
      if (response === 'not-written') {
        // The socket is closing; its 'close' starts the reconnect this loop then waits for.
        current.session.destroy();
        if (link === current) link = undefined;
        continue;
      }
      const status = response.command_status;
      if (status === smpp.ESME_ROK) return response.message_id ?? '';
      if (status !== smpp.ESME_RTHROTTLED && status !== smpp.ESME_RMSGQFUL) throw new SmppError('submit_sm', status);
      if (Date.now() + pause > giveUpAt) throw new SmppError('submit_sm', status, ` for over ${throttleGiveUpMs} ms`);
      log.warn({ server: where, status: statusName(status), retryInMs: pause }, 'SMSC is throttling; resubmitting the part');
      await sleep(pause, undefined, { signal: shutdown.signal }).catch(() => undefined);
      pause = Math.min(pause * 2, throttleBackoff.max);
    }
  }

  return {
    async send(message) {
      const destination = e164Digits(message.to);
      const { dataCoding, udh, parts } = smsParts(message.text, concatenationReference(message.reference));
      const messageIds: string[] = [];
      for (const part of parts) {
        const fields: PduFields = {
          ...source,
          dest_addr_ton: smpp.TON.INTERNATIONAL,
          dest_addr_npi: smpp.NPI.ISDN,
          destination_addr: destination,
          esm_class: udh ? smpp.ESM_CLASS.UDH_INDICATOR : 0,
          registered_delivery: 1,
          data_coding: dataCoding,
          short_message: part,
        };
        messageIds.push(await inWindow(() => submitPart(fields)));
      }
      return { messageIds };
    },

    async close() {
      if (shutdown.signal.aborted) return;
      shutdown.abort();
      const current = link;
      link = undefined;
      await Promise.all([current && unbindAndClose(current.session), connecting?.catch(() => undefined)]);
    },
  };
}

function unbindAndClose(session: Session): Promise<void> {
  if (session.socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const impatient = setTimeout(() => session.destroy(), 2_000);
    session.once('close', () => {
      clearTimeout(impatient);
      resolve();
    });
    if (!session.unbind(() => session.close())) session.destroy();
  });
}

function isReceipt(pdu: PDU): boolean {
  return ((pdu.esm_class ?? 0) & smpp.ESM_CLASS.MC_DELIVERY_RECEIPT) !== 0;
}

function receiptOf(pdu: PDU): DeliveryReceipt | undefined {
  const text = messageText(pdu.short_message) || messageText(pdu.message_payload);
  return parseDeliveryReceipt(text, { receiptedMessageId: pdu.receipted_message_id, messageState: pdu.message_state });
}

function messageText(message: ShortMessage | undefined): string {
  if (message === undefined || typeof message === 'string') return message ?? '';
  if (Buffer.isBuffer(message)) return message.toString('latin1');
  return typeof message.message === 'string' ? message.message : message.message.toString('latin1');
}

/** An alphanumeric sender is TON 5 (NPI unknown); a numeric one is international E.164. */
function sourceAddress(senderId: string): PduFields {
  if (/^\+?\d{1,15}$/.test(senderId)) return { source_addr_ton: smpp.TON.INTERNATIONAL, source_addr_npi: smpp.NPI.ISDN, source_addr: senderId.replace(/^\+/, '') };
  if (senderId.length < 1 || senderId.length > 11) throw new Error(`an alphanumeric SMS sender id has 1–11 characters, got ${JSON.stringify(senderId)}`);
  return { source_addr_ton: smpp.TON.ALPHANUMERIC, source_addr_npi: smpp.NPI.UNKNOWN, source_addr: senderId };
}

function e164Digits(to: string): string {
  const digits = to.replace(/[\s().-]/g, '');
  if (!/^\+?[1-9]\d{6,14}$/.test(digits)) throw new Error(`SMS destination is not an E.164 number: ${JSON.stringify(to)}`);
  return digits.replace(/^\+/, '');
}

function concatenationReference(reference: string): number {
  return createHash('sha256').update(reference).digest()[0] ?? 0;
}

const statusNames = new Map(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

function statusName(status: number): string {
  return `${statusNames.get(status) ?? 'unknown status'} (0x${status.toString(16).padStart(8, '0')})`;
}

/** Runs at most `size` tasks at once; the others wait their turn in order. */
function createWindow(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running < size) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `running` stays as it is.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

const consoleLog: SmsLog = {
  warn: (fields, msg) => console.warn(msg, fields),
  error: (fields, msg) => console.error(msg, fields),
};
