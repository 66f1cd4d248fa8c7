import { createHmac } from 'node:crypto';
import { loadPseudonymKey } from './keys';

/**
 * D5: what Temporal's `CustomerId` search attribute holds instead of the customer id: a keyed
 * HMAC-SHA256, truncated to 64 bits. Search attributes are indexed in the clear (no codec reaches
 * them), so only someone holding PLEDGE_PSEUDONYM_KEY can tell which customer a case is about.
 */
export function pseudonymiseCustomerId(key: string, customerId: string): string {
  return `c_${createHmac('sha256', key).update(customerId, 'utf8').digest('hex').slice(0, 16)}`;
}

let current: { raw: string | undefined; nodeEnv: string | undefined; key: string } | undefined;

/** The customer's pseudonym under the deployment's PLEDGE_PSEUDONYM_KEY, read when first needed and again when it changes. */
export function customerPseudonym(customerId: string, source: NodeJS.ProcessEnv = process.env): string {
  if (!current || current.raw !== source.PLEDGE_PSEUDONYM_KEY || current.nodeEnv !== source.NODE_ENV) {
    const key = loadPseudonymKey({ PLEDGE_PSEUDONYM_KEY: source.PLEDGE_PSEUDONYM_KEY, NODE_ENV: source.NODE_ENV ?? 'development' });
    current = { raw: source.PLEDGE_PSEUDONYM_KEY, nodeEnv: source.NODE_ENV, key };
  }
  return pseudonymiseCustomerId(current.key, customerId);
}

/** The Temporal visibility query (UI or `temporal workflow list --query`) that finds a customer's cases. */
export function customerVisibilityQuery(customerId: string, source: NodeJS.ProcessEnv = process.env): string {
  return `CustomerId = '${customerPseudonym(customerId, source)}'`;
}
