import { z } from '@hono/zod-openapi';
import { createHash } from 'node:crypto';
import { claimIdempotencyKey } from '../db/idempotency-keys';
import type { Sql } from '../db/sql';
import { actionTables } from '../domain/action-tables';
import type { ActionRule } from '../domain/case-actions';
import { ApiError } from './errors';

// What the staff action routes and the user's tracking routes share: the actions by name across
// case types, the request body each one takes, and the Idempotency-Key that becomes the update id.

export type NamedActionRules = Array<ActionRule<string> & { type: string }>;

/** Every action some case type has (and `include` lets in), with the rules of each type that has it. */
export function actionsByName(include: (rule: ActionRule<string>) => boolean = () => true): Record<string, NamedActionRules> {
  const byName: Record<string, NamedActionRules> = {};
  for (const [type, table] of Object.entries(actionTables)) {
    for (const [name, rule] of Object.entries(table ?? {})) if (include(rule)) (byName[name] ??= []).push({ ...rule, type });
  }
  return byName;
}

/** An action's request body: the union of what each case type's action takes, so generated clients send valid actions. */
export function actionBodySchema(rules: NamedActionRules) {
  const inputs = rules.map((rule) => rule.request ?? rule.input);
  return z.object({ input: (inputs.length === 1 ? inputs[0]! : z.union(inputs as never)).optional() });
}

export const idempotencyKeyHeader = z.object({
  'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'A retry with the same key returns the first result and repeats no effect (no second message, no second fan-out)' }),
});

/**
 * An action's Idempotency-Key: tied to its case, its actor's scope and its request, it becomes the
 * update id, so Temporal answers a retry with the first result. The same key with another request is refused.
 */
export async function claimActionKey(sql: Sql, claim: { scope: string; caseId: string; key: string; request: unknown; updateIdPrefix: string }): Promise<string> {
  const requestHash = createHash('sha256').update(JSON.stringify(claim.request)).digest('hex');
  const held = await claimIdempotencyKey(sql, { scope: claim.scope, key: claim.key, requestHash, caseId: claim.caseId });
  if (held.requestHash !== requestHash) {
    throw new ApiError(422, 'idempotency_key_reused', `Idempotency-Key '${claim.key}' was already used on ${claim.caseId} for a different action or input`, [
      { field: 'Idempotency-Key', message: 'reused with a different request' },
    ]);
  }
  return `${claim.updateIdPrefix}${claim.key}`;
}
