// D5: which values Pledge seals under the customer's data key (codec/customer-data-keys.ts).

/**
 * Fields of a case event's data that hold free text or personal values — what the customer or
 * staff wrote (descriptions, messages, notes, reasons, findings), identity references, and the
 * old → new values of a correction. Everything else in an event (types, clocks, instants,
 * amounts, ids, ratings, categories) stays readable, so the record keeps its shape and the
 * reports keep working after the key is destroyed (D1).
 */
export const personalEventFields: ReadonlySet<string> = new Set([
  'description',
  'message',
  'text',
  'question',
  'reason',
  'note',
  'comment',
  'resolution',
  'finding',
  'problem',
  'steps',
  'justification',
  'priorityReason',
  'why',
  'reference',
  'changes',
]);

/** The customer columns sealed (table `customers`). */
export const personalCustomerFields = ['name', 'email', 'phone'] as const;

/** The notification columns sealed for messages to a customer (staff pages are not a customer's data). */
export const personalNotificationFields: ReadonlySet<string> = new Set(['subject', 'body', 'recipient']);
