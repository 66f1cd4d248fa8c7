import { z } from 'zod';

/**
 * C9: where staff warnings, breaches and escalations go, per role. Read from the setting
 * `PLEDGE_STAFF_ROUTES`, a JSON object keyed by role, e.g.
 *
 *   {"supervisor":{"email":["noc-lead@isp.example"],"webhook":"https://chat.example/hooks/abc","webhookSecret":"…16+ chars…"},
 *    "agent":{"email":["agents@isp.example"]}}
 *
 * A role left out is paged nowhere (its messages stay in the staff inbox only).
 */
export const staffRouteRoles = ['agent', 'supervisor'] as const;
export type StaffRouteRole = (typeof staffRouteRoles)[number];

export type StaffRoutes = Record<StaffRouteRole, { email: string[]; webhook?: { url: string; secret?: string } }>;

export interface StaffRecipient {
  channel: 'email' | 'webhook';
  recipient: string;
}

const settingName = 'PLEDGE_STAFF_ROUTES';
const roleFields = ['email', 'webhook', 'webhookSecret'] as const;
const minimumSecretLength = 16;

const roleRouteSchema = z
  .strictObject(
    {
      email: z.array(z.email({ error: 'must be an e-mail address' }), { error: 'must be a list of e-mail addresses' }).optional(),
      webhook: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      webhookSecret: z
        .string({ error: 'must be a string' })
        .min(minimumSecretLength, { error: `must be at least ${minimumSecretLength} characters` })
        .optional(),
    },
    { error: `must be an object with any of ${roleFields.join(', ')}` },
  )
  .superRefine((route, ctx) => {
    if (route.webhookSecret !== undefined && route.webhook === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhookSecret'], message: 'is set but webhook is not; add the webhook URL it signs for' });
    }
  });

const settingSchema = z
  .strictObject({ agent: roleRouteSchema.optional(), supervisor: roleRouteSchema.optional() }, { error: `must be a JSON object keyed by role (${staffRouteRoles.join(', ')})` })
  .superRefine((setting, ctx) => {
    // The sender looks a secret up by URL, so one URL must not carry two different secrets.
    const secretByUrl = new Map<string, string | undefined>();
    for (const role of staffRouteRoles) {
      const route = setting[role];
      if (route?.webhook === undefined) continue;
      if (secretByUrl.has(route.webhook) && secretByUrl.get(route.webhook) !== route.webhookSecret) {
        ctx.addIssue({ code: 'custom', path: [role, 'webhookSecret'], message: 'differs from the secret of another role with the same webhook URL; use one secret per URL' });
      }
      secretByUrl.set(route.webhook, route.webhookSecret);
    }
  });

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : `${name}.${String(key)}`), settingName);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const atTop = issue.path.length === 0;
    const reason = atTop ? `unknown role; roles are ${staffRouteRoles.join(', ')}` : `unknown field; fields are ${roleFields.join(', ')}`;
    return issue.keys.map((key) => `${fieldPath([...issue.path, key])}: ${reason}`);
  }
  return [`${fieldPath(issue.path)}: ${issue.message}`];
}

/** Parses `PLEDGE_STAFF_ROUTES`; unset or blank means no role is paged. Throws naming every bad role and field. */
export function parseStaffRoutes(raw: string | undefined): StaffRoutes {
  const routes: StaffRoutes = { agent: { email: [] }, supervisor: { email: [] } };
  if (raw === undefined || raw.trim() === '') return routes;

  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    // Only the position: newer engines quote the input, and the input holds webhook secrets.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new Error(`invalid ${settingName}: not valid JSON${position === undefined ? '' : ` (at character ${position})`}`);
  }
  const parsed = settingSchema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid ${settingName}: ${parsed.error.issues.flatMap(describeIssue).join('; ')}`);

  for (const role of staffRouteRoles) {
    const route = parsed.data[role];
    if (!route) continue;
    routes[role] = { email: [...new Set(route.email ?? [])] };
    if (route.webhook !== undefined) {
      routes[role].webhook = route.webhookSecret === undefined ? { url: route.webhook } : { url: route.webhook, secret: route.webhookSecret };
    }
  }
  return routes;
}

/** The outbox rows one staff message for `role` becomes: one per address, one for the webhook. */
export function staffRecipients(routes: StaffRoutes, role: StaffRouteRole): StaffRecipient[] {
  const route = routes[role];
  const recipients: StaffRecipient[] = route.email.map((address) => ({ channel: 'email', recipient: address }));
  if (route.webhook) recipients.push({ channel: 'webhook', recipient: route.webhook.url });
  return recipients;
}

/** The signing secret for a webhook URL, for the sender's `secretFor`. */
export function staffWebhookSecret(routes: StaffRoutes, url: string): string | undefined {
  for (const role of staffRouteRoles) {
    const webhook = routes[role].webhook;
    if (webhook?.url === url) return webhook.secret;
  }
  return undefined;
}
