import { describe, expect, it } from 'vitest';
import { parseStaffRoutes, staffRecipients, staffWebhookSecret, type StaffRoutes } from '../../domain/staff-routes';

const secret = 'a-signing-secret-of-32-characters';
const setting = (value: unknown) => JSON.stringify(value);

/** The error `parseStaffRoutes` throws for a setting, as text. */
function parseError(raw: string): string {
  try {
    parseStaffRoutes(raw);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${raw} to be rejected`);
}

describe('PLEDGE_STAFF_ROUTES (C9)', () => {
  it('parses e-mail and webhook routes per role', () => {
    const routes = parseStaffRoutes(
      setting({
        supervisor: { email: ['noc-lead@isp.example', 'duty@isp.example'], webhook: 'https://chat.example/hooks/abc', webhookSecret: secret },
        agent: { email: ['agents@isp.example'] },
      }),
    );
    expect(routes).toEqual<StaffRoutes>({
      supervisor: { email: ['noc-lead@isp.example', 'duty@isp.example'], webhook: { url: 'https://chat.example/hooks/abc', secret } },
      agent: { email: ['agents@isp.example'] },
    });
  });

  it('gives a role left out, or with no fields, no routes', () => {
    const empty: StaffRoutes = { agent: { email: [] }, supervisor: { email: [] } };
    expect(parseStaffRoutes(undefined)).toEqual(empty);
    expect(parseStaffRoutes('')).toEqual(empty);
    expect(parseStaffRoutes('  ')).toEqual(empty);
    expect(parseStaffRoutes('{}')).toEqual(empty);
    expect(parseStaffRoutes(setting({ agent: {} }))).toEqual(empty);
    expect(parseStaffRoutes(setting({ supervisor: { webhook: 'http://oncall.internal:8080/hook' } }))).toEqual({
      agent: { email: [] },
      supervisor: { email: [], webhook: { url: 'http://oncall.internal:8080/hook' } },
    });
  });

  it('lists a repeated address once', () => {
    expect(parseStaffRoutes(setting({ agent: { email: ['agents@isp.example', 'agents@isp.example'] } })).agent.email).toEqual(['agents@isp.example']);
  });

  it.each([
    ['a webhook that is not http(s)', { supervisor: { webhook: 'ftp://chat.example/hooks/abc' } }, 'PLEDGE_STAFF_ROUTES.supervisor.webhook: must be an http(s) URL'],
    ['a webhook that is not a URL', { agent: { webhook: 'chat.example/hooks' } }, 'PLEDGE_STAFF_ROUTES.agent.webhook: must be an http(s) URL'],
    ['a bad address, by its index', { agent: { email: ['agents@isp.example', 'not-an-address'] } }, 'PLEDGE_STAFF_ROUTES.agent.email[1]: must be an e-mail address'],
    ['one address instead of a list', { agent: { email: 'agents@isp.example' } }, 'PLEDGE_STAFF_ROUTES.agent.email: must be a list of e-mail addresses'],
    ['a short secret', { supervisor: { webhook: 'https://chat.example/h', webhookSecret: 'short' } }, 'PLEDGE_STAFF_ROUTES.supervisor.webhookSecret: must be at least 16 characters'],
    ['a secret without a webhook', { supervisor: { email: ['noc-lead@isp.example'], webhookSecret: secret } }, 'PLEDGE_STAFF_ROUTES.supervisor.webhookSecret: is set but webhook is not'],
    ['a role that is not paged', { customer: { email: ['x@isp.example'] } }, 'PLEDGE_STAFF_ROUTES.customer: unknown role; roles are agent, supervisor'],
    ['a misspelt field', { agent: { emails: ['agents@isp.example'] } }, 'PLEDGE_STAFF_ROUTES.agent.emails: unknown field; fields are email, webhook, webhookSecret'],
    ['a role that is not an object', { agent: 'agents@isp.example' }, 'PLEDGE_STAFF_ROUTES.agent: must be an object with any of email, webhook, webhookSecret'],
    ['a list instead of an object', [{ agent: {} }], 'PLEDGE_STAFF_ROUTES: must be a JSON object keyed by role (agent, supervisor)'],
    [
      'one URL with two secrets',
      { agent: { webhook: 'https://chat.example/h', webhookSecret: secret }, supervisor: { webhook: 'https://chat.example/h', webhookSecret: `${secret}-2` } },
      'PLEDGE_STAFF_ROUTES.supervisor.webhookSecret: differs from the secret of another role with the same webhook URL',
    ],
  ])('rejects %s, naming the field', (_case, value, expected) => {
    expect(parseError(setting(value))).toContain(expected);
  });

  it('names every bad field at once', () => {
    const message = parseError(setting({ agent: { email: ['bad'] }, supervisor: { webhook: 'mailto:x@isp.example' } }));
    expect(message).toContain('PLEDGE_STAFF_ROUTES.agent.email[0]: must be an e-mail address');
    expect(message).toContain('PLEDGE_STAFF_ROUTES.supervisor.webhook: must be an http(s) URL');
  });

  it('rejects text that is not JSON without quoting it (it may hold a secret)', () => {
    const message = parseError(`{"supervisor":{"webhookSecret":"${secret}",}}`);
    expect(message).toMatch(/^invalid PLEDGE_STAFF_ROUTES: not valid JSON/);
    expect(message).not.toContain(secret);
  });

  it('never echoes a secret in an error', () => {
    expect(parseError(setting({ agent: { webhookSecret: secret } }))).not.toContain(secret);
  });
});

describe('staff recipients', () => {
  const routes = parseStaffRoutes(
    setting({
      supervisor: { email: ['noc-lead@isp.example', 'duty@isp.example'], webhook: 'https://chat.example/hooks/abc', webhookSecret: secret },
      agent: { email: ['agents@isp.example'] },
    }),
  );

  it('gives one recipient per address and one for the webhook', () => {
    expect(staffRecipients(routes, 'supervisor')).toEqual([
      { channel: 'email', recipient: 'noc-lead@isp.example' },
      { channel: 'email', recipient: 'duty@isp.example' },
      { channel: 'webhook', recipient: 'https://chat.example/hooks/abc' },
    ]);
    expect(staffRecipients(routes, 'agent')).toEqual([{ channel: 'email', recipient: 'agents@isp.example' }]);
  });

  it('gives none for a role without routes', () => {
    expect(staffRecipients(parseStaffRoutes(undefined), 'supervisor')).toEqual([]);
  });

  it('finds the signing secret by webhook URL', () => {
    expect(staffWebhookSecret(routes, 'https://chat.example/hooks/abc')).toBe(secret);
    expect(staffWebhookSecret(routes, 'https://chat.example/hooks/other')).toBeUndefined();
  });
});
