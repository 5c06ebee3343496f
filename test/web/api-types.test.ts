import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiTypesOf, committedApiTypes } from '../../src/console/api-types.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// The console's API types (web/src/api/schema.d.ts) are generated from the service's own OpenAPI
// document and committed: when a route's schema changes, this fails until `npm run api:types`
// is run, and `tsc -p web` then shows which screens the change breaks.
let database: TestDatabase;
let instance: TestInstance;
beforeAll(async () => {
  database = await createTestDatabase();
  instance = await startInstance(database, {}, uniquePrefix());
});
afterAll(async () => {
  await instance?.runtime.stop();
  await database?.drop();
});

it('the committed web/src/api/schema.d.ts is what the running service documents (else: npm run api:types)', async () => {
  const current = await apiTypesOf(instance.runtime.app.swagger());
  expect(current).toContain('"/api/calls/originate"');
  expect(current === (await committedApiTypes()), 'web/src/api/schema.d.ts is stale: run `npm run api:types` and commit it').toBe(true);
});
