import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import { ApiError } from '../errors';
import type { AppEnv } from '../router';

// Swagger UI's page and its assets, all served from the installed swagger-ui-dist package so /docs
// works without internet access (@hono/swagger-ui would otherwise load them from a public CDN).
const distPackageJson = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
const distDir = dirname(distPackageJson);
const distVersion = (JSON.parse(readFileSync(distPackageJson, 'utf8')) as { version: string }).version;

/** The assets' URLs carry the package's version, so a browser may keep them for good. */
const assetBase = '/docs/assets';
const assetDir = `swagger-ui-dist@${distVersion}`;

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/** A plain file name of swagger-ui-dist's top folder: no separators, so no way out of it. */
const assetName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function docsRoutes() {
  const app = new Hono<AppEnv>();
  // @hono/swagger-ui links `${baseUrl}/swagger-ui-dist@${version}/swagger-ui{.css,-bundle.js}`;
  // validatorUrl 'none' stops the page asking the public spec validator for a badge.
  app.get('/docs', swaggerUI({ url: '/openapi.json', baseUrl: assetBase, version: distVersion, validatorUrl: 'none', title: 'Pledge API' }));
  app.get(`${assetBase}/:dir/:file`, async (c) => {
    const { dir, file } = c.req.param();
    const contentType = contentTypes[extname(file)];
    if (dir !== assetDir || !assetName.test(file) || file.includes('..') || !contentType) {
      throw new ApiError(404, 'not_found', 'no such documentation asset; see /docs');
    }
    const body = await readFile(join(distDir, file)).catch(() => undefined);
    if (!body) throw new ApiError(404, 'not_found', 'no such documentation asset; see /docs');
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'public, max-age=31536000, immutable' });
  });
  return app;
}
