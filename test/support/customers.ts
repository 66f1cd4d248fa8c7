import { expect } from 'vitest';
import { devKeys, type RunningStack } from './stack';

/** Creates an English-speaking customer in Shanghai with broadband, reachable by e-mail (consented) and inbox, through PUT /v1/customers/{id}. */
export async function putCustomer(call: RunningStack['call'], id: string): Promise<void> {
  const created = await call('PUT', `/v1/customers/${id}`, {
    key: devKeys.agent,
    body: {
      name: 'Li Wei',
      email: `${id}@example.com`,
      channels: ['email', 'inbox'],
      consents: { email: { granted: true, source: 'e2e signup' } },
      locale: 'en',
      plan: 'home-500m',
      services: ['broadband'],
      region: 'shanghai',
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
}
