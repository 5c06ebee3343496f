import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

// The OpenAPI document is what front-end developers read: every operation of the auth,
// departments, users and clients APIs must be tagged, summarised and declare its answers.
it('documents every auth, department, user and client route', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  const paths = res.json().paths as Record<string, Record<string, { tags?: string[]; summary?: string; responses?: Record<string, unknown> }>>;
  const ours = Object.entries(paths).filter(([path]) => /^\/api\/(auth|departments|users|clients)/.test(path));
  const operations = ours.flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ at: `${method} ${path}`, op })));
  expect(operations.map((o) => o.at)).toEqual(
    expect.arrayContaining([
      'get /api/departments/',
      'patch /api/departments/{id}',
      'put /api/users/{id}/presence',
      'get /api/clients/',
      'delete /api/clients/{id}',
    ]),
  );
  for (const { at, op } of operations) {
    expect(op.tags?.length, at).toBeGreaterThan(0);
    expect(op.summary, at).toBeTruthy();
    expect(Object.keys(op.responses ?? {}).some((code) => code.startsWith('2')), at).toBe(true);
  }
});
