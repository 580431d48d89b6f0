import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';

type Schema = { $ref?: string; type?: string; items?: Schema; oneOf?: Schema[]; allOf?: Schema[] };
type Response = { description?: string; content?: Record<string, { schema?: Schema }> };
type Operation = { responses?: Record<string, Response>; security?: unknown[] };
type Document = { paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of an OpenAPI document, as `METHOD /path`. */
function operations(document: Document): Array<[string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

const hasSchema = (response: Response | undefined) =>
  Object.values(response?.content ?? {}).some((media) => media.schema && Object.keys(media.schema).length > 0);
const isErrorBody = (response: Response | undefined) =>
  Object.values(response?.content ?? {}).some((media) => media.schema?.$ref === '#/components/schemas/ErrorBodySchema');

/**
 * What a client generated from /docs gets: every operation of provisioning
 * and fault-feedback says what it answers on success, with a schema (or a
 * documented empty 204 / a byte stream), and every error it documents carries
 * the contract's error body. A route added without them fails here.
 */
describe('OpenAPI documents', () => {
  let backend: TestBackend;
  const documents: Record<string, Document> = {};

  beforeAll(async () => {
    backend = await startTestBackend();
    for (const [app, url] of [
      ['provisioning', backend.provisioningUrl],
      ['fault-feedback', backend.faultsUrl],
    ]) {
      const answer = await call<Document>('GET', `${url}/docs-json`);
      expect(answer.status).toBe(200);
      documents[app] = answer.body;
    }
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it.each(['provisioning', 'fault-feedback'])('%s: every operation documents a success answer with its schema', (app) => {
    const missing: string[] = [];
    const all = operations(documents[app]);
    expect(all.length).toBeGreaterThan(5);
    for (const [name, operation] of all) {
      const successes = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      if (successes.length === 0) missing.push(`${name}: no 2xx answer`);
      for (const [status, response] of successes) {
        if (status === '204' || hasSchema(response)) continue;
        missing.push(`${name}: ${status} without a schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(['provisioning', 'fault-feedback'])(
    '%s: every operation documents its errors with the error body, 400 for what it reads and 401 where it needs a token',
    (app) => {
      const missing: string[] = [];
      for (const [name, operation] of operations(documents[app])) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (/^4\d\d$/.test(status) && !isErrorBody(response)) missing.push(`${name}: ${status} without the error body`);
          if (/^5\d\d$/.test(status) && !hasSchema(response)) missing.push(`${name}: ${status} without a schema`);
        }
        const path = name.split(' ')[1];
        const reads = /\{/.test(path) || /^(POST|PUT|PATCH)/.test(name);
        if (reads && !operation.responses?.['400']) missing.push(`${name}: no 400`);
        if (operation.security?.length && !operation.responses?.['401']) missing.push(`${name}: no 401`);
      }
      expect(missing).toEqual([]);
    },
  );
});
