import type postgres from 'postgres';

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
    const hasEmail = n % 3 !== 0;
    return {
      id,
      name: `${familyNames[n % familyNames.length]} ${givenNames[(n * 7) % givenNames.length]}`,
      email: hasEmail ? `${id}@example.com` : null,
      channels: hasEmail ? ['inbox', 'email'] : ['inbox'],
      locale: english ? 'en' : 'zh-CN',
      plan: plans[n % plans.length]!,
      services: serviceBundles[n % serviceBundles.length]!,
      region: regions[n % regions.length]!,
    };
  });
  const inserted = await sql`
    insert into customers (id, name, email, channels, locale, plan, services, region)
    select * from jsonb_to_recordset(${sql.json(rows)})
      as r(id text, name text, email text, channels text[], locale text, plan text, services text[], region text)
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
