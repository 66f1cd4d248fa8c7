import { recordDeliveryReceipts, type DeliveryReceiptRecord } from '../db/notifications';
import type { Sql } from '../db/sql';
import type { DeliveryReceipt } from './sms';

/**
 * Delivery receipts arrive one PDU at a time, thousands a second during a fan-out: each waits for
 * the batch it joined to be recorded (so the SMSC is answered only once the receipt is stored),
 * and a batch is written in two statements however many receipts it holds.
 */
export function createReceiptRecorder(sql: Sql, options: { windowMs?: number; maxBatch?: number } = {}): (receipt: DeliveryReceipt) => Promise<void> {
  const windowMs = options.windowMs ?? 20;
  const maxBatch = options.maxBatch ?? 1000;
  let batch: { records: DeliveryReceiptRecord[]; written: Promise<void> } | undefined;

  function newBatch() {
    const records: DeliveryReceiptRecord[] = [];
    let flush!: () => void;
    const due = new Promise<void>((resolve) => (flush = resolve));
    const timer = setTimeout(flush, windowMs);
    const current = {
      records,
      flushNow: () => {
        clearTimeout(timer);
        flush();
      },
      written: due.then(() => {
        if (batch === current) batch = undefined;
        return recordDeliveryReceipts(sql, records);
      }),
    };
    return current;
  }

  return async (receipt) => {
    const current = (batch ??= newBatch()) as ReturnType<typeof newBatch>;
    current.records.push({ providerId: receipt.messageId, state: receipt.state, detail: [receipt.stat, receipt.error].filter(Boolean).join(' ') });
    if (current.records.length >= maxBatch) {
      batch = undefined;
      current.flushNow();
    }
    await current.written;
  };
}
