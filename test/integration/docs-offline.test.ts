import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';

// /docs must work without internet access: the page may only reference assets the API serves
// itself (from the swagger-ui-dist package), never a CDN. /docs touches neither Temporal nor
// Postgres, so those are stubs.
const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
const app = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'docs-offline' });

function referencedAssets(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
}

describe('/docs offline', () => {
  it('serves a page that references only local assets, without an API key', async () => {
    const response = await app.request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain("url: '/openapi.json'");
    expect(html).toContain("validatorUrl: 'none'");
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const assets = referencedAssets(html);
    expect(assets.map((asset) => asset.split('/').pop())).toEqual(expect.arrayContaining(['swagger-ui.css', 'swagger-ui-bundle.js']));
    for (const asset of assets) expect(asset).toMatch(/^\/docs\/assets\//);
  });

  it('answers every referenced asset with its content type, size and a long cache lifetime', async () => {
    const html = await (await app.request('/docs')).text();
    for (const asset of referencedAssets(html)) {
      const response = await app.request(asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type'), asset).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(response.headers.get('cache-control'), asset).toContain('max-age=31536000');
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(10_000);
    }
  });

  it('refuses paths outside the package and files it does not serve', async () => {
    const html = await (await app.request('/docs')).text();
    const assetDir = referencedAssets(html)[0]!.split('/').slice(0, -1).join('/');
    for (const path of [
      `${assetDir}/..%2Fpackage.json`,
      `${assetDir}/%2e%2e%2f%2e%2e%2fpackage.json`,
      `${assetDir}/..%2F..%2F..%2Fpackage.json`,
      `${assetDir}/package.json`,
      `${assetDir}/index.html`,
      '/docs/assets/swagger-ui-dist@0.0.0/swagger-ui.css',
      '/docs/assets/../../package.json',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
    }
  });
});
