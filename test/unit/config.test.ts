import { describe, expect, it } from 'vitest';
import { devApiKeys, parseApiKeys, readEnv } from '../../config';

describe('configuration', () => {
  it('D6: maps each API key to its role', () => {
    const keys = parseApiKeys(readEnv({ PLEDGE_API_KEYS: 'agent:agent-key-1,auditor:audit-key-22' }));
    expect(keys.get('agent-key-1')).toBe('agent');
    expect(keys.get('audit-key-22')).toBe('auditor');
    expect(keys.size).toBe(2);
  });

  it('uses the documented dev keys outside production only', () => {
    expect(parseApiKeys(readEnv({})).size).toBe(devApiKeys.split(',').length);
    expect(() => parseApiKeys(readEnv({ NODE_ENV: 'production' }))).toThrow(/PLEDGE_API_KEYS is required/);
  });

  it('refuses an unknown role or a short key, naming the entry', () => {
    expect(() => parseApiKeys(readEnv({ PLEDGE_API_KEYS: 'admin:long-enough-key' }))).toThrow(/admin:long-enough-key/);
    expect(() => parseApiKeys(readEnv({ PLEDGE_API_KEYS: 'agent:short' }))).toThrow(/8\+ characters/);
  });

  it('names the variable that is wrong', () => {
    expect(() => readEnv({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
