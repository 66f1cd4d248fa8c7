import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type PduFields, type Session } from 'smpp';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { createSmppSender, type DeliveryReceipt, type SmppSenderOptions, type SmsSender } from '../../notifications/sms';

// A small SMSC from the smpp package itself: it binds system id "pledge" with password "secret",
// answers submit_sm with ids smsc-1, smsc-2… (or with the statuses queued in `nextStatuses`),
// and records what it saw.
const smsc = {
  server: smpp.createServer(),
  port: 0,
  binds: 0,
  sessions: [] as Session[],
  submits: [] as PDU[],
  accepted: 0,
  nextStatuses: [] as number[],
  responseDelayMs: 0,
  inFlight: 0,
  maxInFlight: 0,
  afterBind: (_session: Session): void => undefined,
};

smsc.server.on('session', (session: Session) => {
  session.on('error', () => undefined);
  session.on('bind_transceiver', (pdu: PDU) => {
    if (pdu.system_id !== 'pledge' || pdu.password !== 'secret') {
      session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
      return;
    }
    smsc.binds++;
    smsc.sessions.push(session);
    session.once('close', () => smsc.sessions.splice(smsc.sessions.indexOf(session), 1));
    session.send(pdu.response({ system_id: 'test-smsc' }));
    smsc.afterBind(session);
  });
  session.on('submit_sm', (pdu: PDU) => {
    smsc.submits.push(pdu);
    smsc.maxInFlight = Math.max(smsc.maxInFlight, ++smsc.inFlight);
    const status = smsc.nextStatuses.shift() ?? smpp.ESME_ROK;
    setTimeout(() => {
      smsc.inFlight--;
      if (status !== smpp.ESME_ROK) return session.send(pdu.response({ command_status: status }));
      smsc.accepted++;
      session.send(pdu.response({ message_id: `smsc-${smsc.accepted}` }));
    }, smsc.responseDelayMs);
  });
  session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
  session.on('unbind', (pdu: PDU) => session.send(pdu.response(), () => session.close()));
});

const senders: SmsSender[] = [];
const receipts: DeliveryReceipt[] = [];

function sender(overrides: Partial<SmppSenderOptions> = {}): SmsSender {
  const created = createSmppSender({
    url: `smpp://pledge:secret@127.0.0.1:${smsc.port}`,
    senderId: 'Pledge',
    onReceipt: (receipt) => void receipts.push(receipt),
    log: { warn: () => undefined, error: () => undefined },
    submitTimeoutMs: 2_000,
    connectTimeoutMs: 3_000,
    throttleBackoffMs: { initial: 50, max: 200 },
    reconnectBackoffMs: { initial: 200, max: 1_000 },
    ...overrides,
  });
  senders.push(created);
  return created;
}

/** Sends a deliver_sm from the SMSC and resolves with the client's deliver_sm_resp. */
function deliver(session: Session, fields: PduFields): Promise<PDU> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no deliver_sm_resp within 2 s')), 2_000);
    const written = session.deliver_sm(fields, (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    if (!written) reject(new Error('SMSC could not write deliver_sm'));
  });
}

async function eventually(check: () => void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

beforeAll(async () => {
  smsc.server.listen(0, '127.0.0.1');
  await once(smsc.server, 'listening');
  smsc.port = (smsc.server.address() as AddressInfo).port;
});

beforeEach(async () => {
  await Promise.all(senders.splice(0).map((created) => created.close()));
  smsc.submits = [];
  smsc.nextStatuses = [];
  smsc.binds = 0;
  smsc.accepted = 0;
  smsc.responseDelayMs = smsc.maxInFlight = 0;
  smsc.afterBind = () => undefined;
  receipts.length = 0;
  await eventually(() => expect(smsc.sessions).toHaveLength(0));
});

afterAll(async () => {
  await Promise.all(senders.splice(0).map((created) => created.close()));
  for (const session of smsc.sessions) session.destroy();
  await new Promise((resolve) => smsc.server.close(resolve));
});

describe('SMS over SMPP', () => {
  it('sends a long Chinese message as concatenated UCS-2 parts', async () => {
    const text = '尊敬的客户：您报告的宽带故障已受理，工程师将于明天上午九点至十二点之间上门检修。如需改约，请回复本短信或致电客服热线，我们将尽快为您安排。感谢您的耐心等待！';
    expect(text.length).toBeGreaterThan(70);

    const sent = await sender().send({ to: '+86 138 0013 8000', text, reference: 'notification-1' });

    expect(smsc.submits).toHaveLength(2);
    expect(sent.messageIds).toEqual(['smsc-1', 'smsc-2']);
    const headers = smsc.submits.map((pdu) => {
      expect(pdu).toMatchObject({ data_coding: 8, registered_delivery: 1, source_addr: 'Pledge', source_addr_ton: 5, destination_addr: '8613800138000', dest_addr_ton: 1, dest_addr_npi: 1 });
      expect(pdu.esm_class! & 0x40).toBe(0x40);
      const message = pdu.short_message as { udh: Buffer[]; message: string };
      expect(message.udh).toHaveLength(1);
      return { header: [...message.udh[0]!], message: message.message };
    });
    const reference = headers[0]!.header[2];
    expect(headers.map(({ header }) => header)).toEqual([
      [0x00, 0x03, reference, 2, 1],
      [0x00, 0x03, reference, 2, 2],
    ]);
    expect(headers.map(({ message }) => message).join('')).toBe(text);
  });

  it('reports a final delivery receipt for the id the SMSC returned, and answers every deliver_sm', async () => {
    const sms = sender();
    const { messageIds } = await sms.send({ to: '+4915112345678', text: 'Your line is back up.', reference: 'notification-2' });
    expect(messageIds).toEqual(['smsc-1']);
    const session = smsc.sessions[0]!;
    const receipt = (stat: string) => ({
      esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
      source_addr: '4915112345678',
      destination_addr: 'Pledge',
      short_message: `id:${messageIds[0]} sub:001 dlvrd:001 submit date:2501311200 done date:2501311201 stat:${stat} err:000 text:Your line is back`,
    });

    const interim = await deliver(session, receipt('ENROUTE'));
    const final = await deliver(session, receipt('DELIVRD'));

    expect([interim.command, interim.command_status, final.command, final.command_status]).toEqual(['deliver_sm_resp', 0, 'deliver_sm_resp', 0]);
    expect(receipts).toEqual([{ messageId: 'smsc-1', state: 'delivered', stat: 'DELIVRD', doneAt: new Date('2025-01-31T12:01:00Z') }]);
  });

  it('resubmits a throttled part after a pause and delivers the message once', async () => {
    smsc.nextStatuses = [smpp.ESME_RTHROTTLED];

    const started = Date.now();
    const { messageIds } = await sender().send({ to: '+4915112345678', text: 'Outage resolved.', reference: 'notification-3' });

    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(smsc.submits).toHaveLength(2);
    expect(smsc.submits[1]!.short_message).toEqual(smsc.submits[0]!.short_message);
    expect(smsc.accepted).toBe(1);
    expect(messageIds).toEqual(['smsc-1']);
  });

  it('reconnects after the SMSC drops the connection', async () => {
    const sms = sender();
    await sms.send({ to: '+4915112345678', text: 'first', reference: 'notification-4' });
    expect(smsc.binds).toBe(1);

    const dropped = smsc.sessions[0]!;
    dropped.destroy();
    await once(dropped, 'close');
    await new Promise((resolve) => setTimeout(resolve, 20));

    const { messageIds } = await sms.send({ to: '+4915112345678', text: 'second', reference: 'notification-5' });

    expect(messageIds).toHaveLength(1);
    expect(smsc.binds).toBe(2);
    expect(smsc.submits.map((pdu) => (pdu.short_message as { message: string }).message)).toEqual(['first', 'second']);
  });

  it('rejects a send with the bind error when the password is refused', async () => {
    const sms = sender({ url: `smpp://pledge:wrong@127.0.0.1:${smsc.port}` });

    await expect(sms.send({ to: '+4915112345678', text: 'never', reference: 'notification-6' })).rejects.toThrow(/bind_transceiver failed: ESME_RINVPASWD/);
    expect(smsc.binds).toBe(0);
    expect(smsc.submits).toHaveLength(0);
  });

  it('fails a send with the status of a rejected submit', async () => {
    smsc.nextStatuses = [smpp.ESME_RINVDSTADR];

    await expect(sender().send({ to: '+4915112345678', text: 'nope', reference: 'notification-7' })).rejects.toThrow(/submit_sm failed: ESME_RINVDSTADR/);
    expect(smsc.submits).toHaveLength(1);
  });

  it('shares one session between concurrent sends, at most maxInFlight submits at a time', async () => {
    smsc.responseDelayMs = 30;
    const sms = sender({ maxInFlight: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => sms.send({ to: '+4915112345678', text: `message ${i}`, reference: `batch-${i}` })));

    expect(results.every(({ messageIds }) => messageIds.length === 1)).toBe(true);
    expect(new Set(results.map(({ messageIds }) => messageIds[0])).size).toBe(6);
    expect(smsc.binds).toBe(1);
    expect(smsc.maxInFlight).toBe(2);
  });

  it('takes receipts the SMSC sends right behind the bind response', async () => {
    const answers: Promise<PDU>[] = [];
    smsc.afterBind = (session) => {
      answers.push(
        deliver(session, {
          esm_class: 0x04,
          source_addr: '4915112345678',
          destination_addr: 'Pledge',
          short_message: 'id:queued-1 sub:001 dlvrd:000 submit date:2501311200 done date:2501311300 stat:UNDELIV err:021 text:',
        }),
      );
      answers.push(
        deliver(session, { esm_class: 0x04, source_addr: '4915112345678', destination_addr: 'Pledge', receipted_message_id: 'queued-2', message_state: smpp.MESSAGE_STATE.EXPIRED, short_message: '' }),
      );
    };

    await sender().send({ to: '+4915112345678', text: 'hello', reference: 'notification-9' });

    expect((await Promise.all(answers)).map((answer) => answer.command_status)).toEqual([0, 0]);
    expect(receipts).toEqual([
      { messageId: 'queued-1', state: 'failed', stat: 'UNDELIV', error: '021', doneAt: new Date('2025-01-31T13:00:00Z') },
      { messageId: 'queued-2', state: 'failed', stat: 'EXPIRED' },
    ]);
  });

  it('asks the SMSC to deliver a receipt again when recording it fails', async () => {
    await sender({ onReceipt: () => Promise.reject(new Error('database is down')) }).send({ to: '+4915112345678', text: 'hello', reference: 'notification-10' });

    const answer = await deliver(smsc.sessions[0]!, { esm_class: 0x04, short_message: 'id:smsc-1 stat:DELIVRD err:000' });

    expect(answer.command_status).toBe(smpp.ESME_RX_T_APPN);
  });

  it('unbinds and closes its session on close()', async () => {
    const sms = sender();
    await sms.send({ to: '+4915112345678', text: 'bye', reference: 'notification-8' });
    expect(smsc.sessions).toHaveLength(1);
    await sms.close();
    await eventually(() => expect(smsc.sessions).toHaveLength(0));
  });
});
