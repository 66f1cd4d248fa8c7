import type { z } from 'zod';
import type { ActorRole } from './actors';

/**
 * What /openapi.json says of a text that is trimmed and must not be empty (`z.string().trim().min(1)`):
 * it has a character other than white space. Metadata only, `.meta(nonBlank)`: what is accepted does not change.
 */
export const nonBlank = { pattern: '[^\\s\\uFEFF]' } as const;

/**
 * What /openapi.json says of an object whose `.refine` wants at least one of these arrays to have
 * an item (e.g. the services or regions of a scope). Metadata only, `.meta(someItems(...))`.
 */
export function someItems(...keys: string[]) {
  return { anyOf: keys.map((key) => ({ required: [key], properties: { [key]: { type: 'array', minItems: 1 } } })) };
}

/** One action of a case type: who may take it, from which statuses, and what input it needs. */
export interface ActionRule<Status extends string> {
  roles: readonly ActorRole[];
  from: readonly Status[];
  /** What the workflow accepts when it applies the action, replays included: fields only ever become optional here. */
  input: z.ZodType;
  /**
   * Stricter rules for new requests (the API and the update validator, which never runs on
   * replay): a field a later release requires is required here and optional in `input`, so
   * actions recorded before still replay.
   */
  request?: z.ZodType;
  describe: string;
}

export type ActionTable<Status extends string> = Record<string, ActionRule<Status>>;

/**
 * The actions of a table as a discriminated union, each with the input its zod schema parses to:
 * what `decide` receives, so every rule reads typed fields instead of casting.
 */
export type ActionUnion<Table extends Record<string, { input: z.ZodType }>> = {
  [Name in keyof Table & string]: { action: Name; input: z.output<Table[Name]['input']> };
}[keyof Table & string];

export type ActionCheck = { ok: true; input: Record<string, unknown> } | { ok: false; kind: 'unknown-action' | 'forbidden' | 'invalid-input' | 'refused'; message: string; fields?: FieldIssue[] };

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * The rules every case type applies before an action touches history: the API uses it to answer
 * 4xx early, the workflow's update validator uses it against the live status.
 */
export function checkAction<Status extends string>(
  table: ActionTable<Status>,
  request: { action: string; input?: unknown; actorRole: ActorRole },
  status?: Status,
  schema: 'request' | 'input' = 'request',
): ActionCheck {
  const rule = Object.hasOwn(table, request.action) ? table[request.action] : undefined;
  if (!rule) {
    return { ok: false, kind: 'unknown-action', message: `unknown action '${request.action}'; known: ${Object.keys(table).join(', ')}` };
  }
  if (!rule.roles.includes(request.actorRole)) {
    return { ok: false, kind: 'forbidden', message: `the ${request.actorRole} role may not ${request.action}; allowed: ${rule.roles.join(', ')}` };
  }
  const parsed = (schema === 'request' ? (rule.request ?? rule.input) : rule.input).safeParse(request.input ?? {});
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => ({ field: ['input', ...issue.path.map(String)].join('.'), message: issue.message }));
    return { ok: false, kind: 'invalid-input', message: `invalid input for '${request.action}'`, fields };
  }
  if (status !== undefined && !rule.from.includes(status)) {
    return { ok: false, kind: 'refused', message: `cannot ${request.action} a case that is ${status}; allowed when ${rule.from.join(' or ')}` };
  }
  return { ok: true, input: parsed.data as Record<string, unknown> };
}

export function allowedActions<Status extends string>(table: ActionTable<Status>, status: Status): string[] {
  return Object.entries(table)
    .filter(([, rule]) => rule.from.includes(status))
    .map(([name]) => name);
}
