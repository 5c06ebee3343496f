import { afterAll, beforeAll, expect, it } from 'vitest';
import { departments } from '../../src/departments/departments.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Two instances behind one load balancer: the director disables a manager on one, the manager's
// screen is open on the other. The screen must close within a second, and the token must stop
// working on both.

let database: TestDatabase;
let a: TestInstance;
let b: TestInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  const prefix = uniquePrefix();
  a = await startInstance(database, {}, prefix);
  b = await startInstance(database, {}, prefix);
});
afterAll(async () => {
  await b?.runtime.stop();
  await a?.runtime.stop();
  await database?.drop();
});

const patch = (base: string, token: string, id: number, body: object) =>
  fetch(`${base}/api/users/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('closes the disabled user\'s screens on every instance within a second and revokes the token', async () => {
  const [dep] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id });
  const director = await insertUser(database, { role: 'director', name: 'dora' });
  const leaver = await insertUser(database, { role: 'manager', name: 'leo', departmentId: dep!.id });
  const stayer = await insertUser(database, { role: 'manager', name: 'stan', departmentId: dep!.id });
  const leaverScreen = await connectScreen(b.wsUrl, leaver.token);
  const stayerScreen = await connectScreen(b.wsUrl, stayer.token);
  await leaverScreen.waitFor('hello');
  const closed = new Promise<{ code: number; at: number }>((resolve) => leaverScreen.socket.once('close', (code) => resolve({ code, at: Date.now() })));
  try {
    const started = Date.now();
    const res = await patch(a.baseUrl, director.token, leaver.id, { active: false });
    expect(res.status).toBe(200);
    const { code, at } = await Promise.race([
      closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the screen was still open 2 s after the account was disabled')), 2_000)),
    ]);
    expect(code).toBe(4001);
    expect(at - started).toBeLessThan(1_000);
    expect(leaverScreen.of('session.ended')).toHaveLength(1);
    // Nobody else's screen is touched.
    expect(stayerScreen.socket.readyState).toBe(stayerScreen.socket.OPEN);
    for (const base of [a.baseUrl, b.baseUrl]) {
      const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${leaver.token}` } });
      expect(me.status).toBe(401);
    }
    await expect(connectScreen(b.wsUrl, leaver.token)).rejects.toThrow();
  } finally {
    leaverScreen.close();
    stayerScreen.close();
  }
});
