import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type PduFields, type Session, type ShortMessage } from 'smpp';

// A real SMSC (the `smpp` package's server) on loopback that keeps every message it accepts, for
// tests that check what reached people by SMS: it binds one transceiver account, answers each
// submit_sm with an id of its own, joins concatenated parts again as a handset would, and sends a
// delivery receipt for every part it accepted, as an SMSC does once the handset has it.

export interface ReceivedSms {
  /** The destination as submitted: E.164 digits without the '+'. */
  to: string;
  /** The parts' text joined, once every part arrived. */
  text: string;
  /** The id this sink gave each part, in part order. */
  messageIds: string[];
}

export interface SmppSinkOptions {
  systemId?: string;
  password?: string;
  /** Pause between accepting a part and sending its receipt; by default the next turn of the event loop. */
  receiptDelayMs?: number;
  /** Answers the first `throttleFirst` submits with ESME_RTHROTTLED, as a busy SMSC does. */
  throttleFirst?: number;
  /** Destinations (digits, no '+') whose parts get an UNDELIV receipt instead of DELIVRD. */
  undeliverable?: (destination: string) => boolean;
}

export interface SmppSink {
  /** smpp://systemId:password@127.0.0.1:port */
  url: string;
  /** Complete messages, in the order their last part arrived. */
  received: ReceivedSms[];
  /** Every submit_sm seen, throttled ones included. */
  readonly submits: number;
  readonly throttled: number;
  /** Parts of messages still missing other parts (0 once every message is whole). */
  readonly partsWaiting: number;
  /** Receipts the client acknowledged with ESME_ROK (a refused one is sent again). */
  readonly receiptsAcknowledged: number;
  stop(): Promise<void>;
}

const receiptRetryMs = 100;

export async function startSmppSink(options: SmppSinkOptions = {}): Promise<SmppSink> {
  const systemId = options.systemId ?? 'pledge';
  const password = options.password ?? 'secret';
  const idPrefix = randomBytes(4).toString('hex');
  const received: ReceivedSms[] = [];
  /** Concatenated messages being joined, by destination and reference. */
  const assembling = new Map<string, { total: number; texts: (string | undefined)[]; ids: (string | undefined)[]; arrived: number }>();
  const sessions = new Set<Session>();
  const timers = new Set<NodeJS.Timeout>();
  const counts = { submits: 0, throttled: 0, accepted: 0, receiptsAcknowledged: 0 };
  let stopped = false;

  const later = (ms: number | undefined, run: () => void) => {
    if (ms === undefined) return void setImmediate(run);
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  function accept(pdu: PDU, messageId: string): void {
    const to = pdu.destination_addr ?? '';
    const { text, concatenation } = partOf(pdu.short_message);
    if (!concatenation) {
      received.push({ to, text, messageIds: [messageId] });
      return;
    }
    const key = `${to}/${concatenation.reference}/${concatenation.total}`;
    let message = assembling.get(key);
    if (!message) assembling.set(key, (message = { total: concatenation.total, texts: [], ids: [], arrived: 0 }));
    const index = concatenation.sequence - 1;
    if (message.texts[index] === undefined) message.arrived++;
    message.texts[index] = text;
    message.ids[index] = messageId;
    if (message.arrived < message.total) return;
    assembling.delete(key);
    received.push({ to, text: message.texts.join(''), messageIds: message.ids as string[] });
  }

  function sendReceipt(session: Session, submit: PDU, messageId: string, submittedAt: Date): void {
    if (stopped) return;
    const destination = submit.destination_addr ?? '';
    const failed = options.undeliverable?.(destination) ?? false;
    const fields: PduFields = {
      source_addr_ton: submit.dest_addr_ton,
      source_addr_npi: submit.dest_addr_npi,
      source_addr: destination,
      dest_addr_ton: submit.source_addr_ton,
      dest_addr_npi: submit.source_addr_npi,
      destination_addr: submit.source_addr,
      esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
      short_message: receiptText(messageId, submittedAt, new Date(), failed),
    };
    session.deliver_sm(fields, (response) => {
      if (response.command_status === smpp.ESME_ROK) counts.receiptsAcknowledged++;
      // ESME_RX_T_APPN and the like: the client could not record it yet; an SMSC tries again.
      else later(receiptRetryMs, () => sendReceipt(session, submit, messageId, submittedAt));
    });
  }

  const server = smpp.createServer((session: Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
    let bound = false;
    session.on('bind_transceiver', (pdu: PDU) => {
      if (pdu.system_id !== systemId || pdu.password !== password) {
        session.send(pdu.response({ command_status: pdu.system_id !== systemId ? smpp.ESME_RINVSYSID : smpp.ESME_RINVPASWD }));
        return;
      }
      bound = true;
      session.send(pdu.response({ system_id: 'pledge-smpp-sink' }));
    });
    session.on('submit_sm', (pdu: PDU) => {
      counts.submits++;
      if (!bound) return void session.send(pdu.response({ command_status: smpp.errors.ESME_RINVBNDSTS ?? smpp.ESME_RSYSERR }));
      if (counts.throttled < (options.throttleFirst ?? 0)) {
        counts.throttled++;
        return void session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      }
      const messageId = `${idPrefix}-${++counts.accepted}`;
      accept(pdu, messageId);
      const submittedAt = new Date();
      session.send(pdu.response({ message_id: messageId }));
      if ((pdu.registered_delivery ?? 0) & 0x01) later(options.receiptDelayMs, () => sendReceipt(session, pdu, messageId, submittedAt));
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => session.send(pdu.response(), () => session.close()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `smpp://${encodeURIComponent(systemId)}:${encodeURIComponent(password)}@127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get submits() {
      return counts.submits;
    },
    get throttled() {
      return counts.throttled;
    },
    get partsWaiting() {
      return [...assembling.values()].reduce((sum, message) => sum + message.arrived, 0);
    },
    get receiptsAcknowledged() {
      return counts.receiptsAcknowledged;
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

/** A part's text, and its place in a concatenated message when it carries a concatenation UDH (8- or 16-bit reference). */
function partOf(message: ShortMessage | undefined): { text: string; concatenation?: { reference: number; total: number; sequence: number } } {
  if (message === undefined || typeof message === 'string' || Buffer.isBuffer(message)) return { text: typeof message === 'string' ? message : (message?.toString('latin1') ?? '') };
  const text = typeof message.message === 'string' ? message.message : message.message.toString('latin1');
  const elements = message.udh === undefined ? [] : Array.isArray(message.udh) ? message.udh : [message.udh];
  for (const element of elements) {
    // IEI, length, data…
    if (element[0] === 0x00 && element[1] === 3) return { text, concatenation: { reference: element[2]!, total: element[3]!, sequence: element[4]! } };
    if (element[0] === 0x08 && element[1] === 4) return { text, concatenation: { reference: element.readUInt16BE(2), total: element[4]!, sequence: element[5]! } };
  }
  return { text };
}

/** SMPP 3.4 appendix B. */
function receiptText(messageId: string, submittedAt: Date, doneAt: Date, failed: boolean): string {
  return `id:${messageId} sub:001 dlvrd:${failed ? '000' : '001'} submit date:${receiptDate(submittedAt)} done date:${receiptDate(doneAt)} stat:${failed ? 'UNDELIV' : 'DELIVRD'} err:${failed ? '001' : '000'} text:`;
}

/** YYMMDDhhmm, UTC. */
function receiptDate(at: Date): string {
  return at.toISOString().slice(2, 16).replace(/\D/g, '');
}
