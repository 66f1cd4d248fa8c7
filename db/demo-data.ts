import type postgres from 'postgres';
import { cipherOfRow, newCustomerDataKey } from './customer-keys';

const regions = ['shanghai', 'beijing', 'guangzhou', 'shenzhen', 'hangzhou', 'chengdu'];
const serviceBundles = [['broadband'], ['broadband', 'iptv'], ['mobile'], ['broadband', 'mobile'], ['cloud-storage'], ['broadband', 'iptv', 'mobile']];
const plans = ['home-100m', 'home-500m', 'home-1000m', 'business-1g'];
const familyNames = ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Zhao', 'Huang', 'Zhou', 'Wu'];
const givenNames = ['Wei', 'Fang', 'Min', 'Jing', 'Lei', 'Yan', 'Jun', 'Xin', 'Hao', 'Ting', 'Yu', 'Qiang'];

/** Deterministic demo customers (`cust-000001`…): rerunning inserts nothing new. */
export async function seedDemoCustomers(sql: postgres.Sql, count = 300): Promise<number> {
  const rows = Array.from({ length: count }, (_, index) => {
    const n = index + 1;
    const id = `cust-${String(n).padStart(6, '0')}`;
    const english = n % 5 === 0;
    // A third SMS only, a third SMS then e-mail, a third e-mail only; every one consented (D4).
    const channels = [
      ['sms', 'inbox'],
      ['sms', 'email', 'inbox'],
      ['email', 'inbox'],
    ][n % 3]!;
    const consent = { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'demo signup' };
    // D5: sealed like any customer written through Pledge (db/customers.ts).
    const dataKey = newCustomerDataKey(id);
    const cipher = cipherOfRow({ id, data_key: dataKey, data_key_shredded_at: null });
    return {
      id,
      data_key: dataKey,
      name: cipher.seal(`${familyNames[n % familyNames.length]} ${givenNames[(n * 7) % givenNames.length]}`),
      email: cipher.seal(channels.includes('email') ? `${id}@example.com` : null),
      phone: cipher.seal(channels.includes('sms') ? `+86138${String(n).padStart(8, '0')}` : null),
      channels,
      consents: Object.fromEntries(channels.filter((channel) => channel !== 'inbox').map((channel) => [channel, consent])),
      quiet_hours: n % 4 === 0 ? { from: '22:00', to: '08:00' } : null,
      locale: english ? 'en' : 'zh-CN',
      plan: plans[n % plans.length]!,
      services: serviceBundles[n % serviceBundles.length]!,
      region: regions[n % regions.length]!,
    };
  });
  const inserted = await sql`
    insert into customers (id, data_key, name, email, phone, channels, consents, quiet_hours, locale, plan, services, region)
    select * from jsonb_to_recordset(${sql.json(rows)})
      as r(id text, data_key text, name text, email text, phone text, channels text[], consents jsonb, quiet_hours jsonb, locale text, plan text, services text[], region text)
    on conflict (id) do nothing
    returning id`;
  return inserted.length;
}

/** A few complaints so the API and the Temporal UI have something to show; keyed so a restart opens none twice. */
export const demoComplaints = [
  { key: 'demo-complaint-1', body: { customerId: 'cust-000001', channel: 'app', category: 'network-quality', summary: 'Broadband drops every evening around 21:00' } },
  { key: 'demo-complaint-2', body: { customerId: 'cust-000002', channel: 'phone', category: 'account-security', summary: 'Someone changed my account password' } },
  { key: 'demo-complaint-3', body: { customerId: 'cust-000005', channel: 'email', category: 'billing', summary: 'Charged twice for November' } },
];

/** One open outage, so the incident views are not empty on a first start. */
export const demoIncidents = [
  {
    key: 'demo-incident-1',
    body: {
      title: 'IPTV streams freeze in Chengdu',
      description: 'Live channels stop after a few seconds; video on demand works.',
      severity: 'SEV3',
      scope: { services: ['iptv'], regions: ['chengdu'] },
    },
  },
];
