import { z } from '@hono/zod-openapi';
import { createHash } from 'node:crypto';
import { claimIdempotencyKey } from '../db/idempotency-keys';
import type { Sql } from '../db/sql';
import { actionTables } from '../domain/action-tables';
import type { ActionRule } from '../domain/case-actions';
import { formatCaseId, type CaseType } from '../domain/case-types';
import { ApiError } from './errors';
import { caseNumberPattern } from './schemas';

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

/** Whether every case type's version of an action needs input (its schema refuses `{}`): then the body and its `input` are required. */
export function actionNeedsInput(rules: NamedActionRules): boolean {
  return rules.every((rule) => !(rule.request ?? rule.input).safeParse({}).success);
}

/**
 * An action's request body: the union of what each case type's action takes, so generated clients
 * send valid actions. `input` is required when every type's action needs one (it is checked
 * against the case's own type, which its number names; see actionCaseIdSchema).
 */
export function actionBodySchema(name: string, rules: NamedActionRules) {
  const inputs = rules.map((rule) => rule.request ?? rule.input);
  const input = inputs.length === 1 ? inputs[0]! : z.union(inputs as never);
  const example = bodyExamples[name];
  return z.object({ input: actionNeedsInput(rules) ? input : input.optional() }).openapi(example ? { example } : {});
}

/** Examples of the bodies whose rules span several fields or case types (generators start from them too). */
const bodyExamples: Record<string, unknown> = {
  'set-scope': { input: { services: ['broadband'], regions: ['shanghai-pudong'] } },
  reclassify: { input: { priority: 'P2', reason: 'Affects the whole building' } },
  resolve: {
    input: {
      resolution: 'The line card was replaced',
      problem: 'No signal since this morning',
      steps: 'An engineer replaced the line card in the cabinet',
      expectedCompletionAt: '2026-11-30T18:00:00+08:00',
    },
  },
  withdraw: { input: { reason: 'The problem went away' } },
  complete: { input: {} },
};

/**
 * The case number of an action's route, as declared in /openapi.json: only the case types that
 * have the action (a number of another type is refused: 404 when it names no type, 422 when its
 * type has no such action). The check itself stays where it was, so the answers do not change.
 */
export function actionCaseIdSchema(rules: NamedActionRules) {
  const types = [...new Set(rules.map((rule) => rule.type as CaseType))];
  return z
    .string()
    .min(1)
    .max(64)
    .openapi({
      param: { name: 'caseId', in: 'path' },
      pattern: caseNumberPattern(types),
      example: formatCaseId(types[0]!, 2026, 42),
      description: `A case number of a ${types.join(', ')} case`,
    });
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
