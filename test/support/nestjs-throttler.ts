import { readFileSync } from 'node:fs';
import * as asyncHooks from 'node:async_hooks';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';

/**
 * @nestjs/throttler is CommonJS and requires @nestjs/common, an ES module since Nest 12. Node
 * (20.19+, 22.12+) loads that at run time; Jest's module registry cannot before Node 24.9. So under
 * Jest (moduleNameMapper in jest.config.js) the package's own files are evaluated here, unchanged,
 * with `require` answering the very @nestjs/common and @nestjs/core instances the apps use.
 */
const external: Record<string, unknown> = {
  '@nestjs/common': nestCommon,
  '@nestjs/core': nestCore,
  async_hooks: asyncHooks,
  'node:crypto': crypto,
  net,
};
// Resolved by path: through Jest, the package name leads back to this file.
const entry = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/@nestjs/throttler/dist/index.js');
const loaded = new Map<string, { exports: Record<string, unknown> }>();

function load(file: string): Record<string, unknown> {
  const cached = loaded.get(file);
  if (cached) return cached.exports;
  const module = { exports: {} as Record<string, unknown> };
  loaded.set(file, module);
  const requireHere = (name: string) => {
    if (name in external) return external[name];
    if (name.startsWith('./')) return load(join(dirname(file), `${name}.js`));
    throw new Error(`@nestjs/throttler requires ${name}, which test/support/nestjs-throttler.ts does not provide`);
  };
  new Function('exports', 'require', 'module', '__filename', '__dirname', readFileSync(file, 'utf8'))(
    module.exports,
    requireHere,
    module,
    file,
    dirname(file),
  );
  return module.exports;
}

const throttler = load(entry) as typeof import('@nestjs/throttler');
export const { ThrottlerGuard, ThrottlerStorageService } = throttler;
