import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { addCall, addClient, addUser, bearer, createRecordingsApp, pbxHeaders, wavFile, type RecordingsTestApp } from '../recordings/helpers.js';

// Listening to a client's call is a look at that client (read-budget.ts readOf.client): the
// player's range requests and the client's card after it are the same one read.

let t: RecordingsTestApp;
beforeAll(async () => {
  t = await createRecordingsApp({ READ_BUDGET_CARDS_PER_HOUR: '1' });
});
afterAll(async () => t?.close());

it('counts a recording as a read of the call’s client, once however it is fetched', async () => {
  const manager = await addUser(t, { role: 'manager' });
  const [first, second] = [await addClient(t, manager.id), await addClient(t, manager.id)];
  const recorded = async (clientId: number) => {
    const call = await addCall(t, { clientId, ownerId: manager.id, answeredById: manager.id });
    expect((await t.app.inject({ method: 'PUT', url: `/pbx/recordings/${call.linkedid}`, headers: pbxHeaders(), payload: wavFile(2000) })).statusCode).toBe(201);
    return call.id;
  };
  const [callOfFirst, callOfSecond] = [await recorded(first), await recorded(second)];
  const listen = async (callId: number, range?: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/calls/${callId}/recording`, headers: { ...bearer(manager.token), ...(range && { range }) } });
    expect(res.statusCode, res.body).toBe(range ? 206 : 200);
  };
  const trips = async () => t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'security.scraping'), eq(auditLog.actorId, manager.id)));

  await listen(callOfFirst);
  await listen(callOfFirst, 'bytes=0-99');
  await listen(callOfFirst, 'bytes=100-');
  expect((await t.app.inject({ method: 'GET', url: `/api/clients/${first}`, headers: bearer(manager.token) })).statusCode).toBe(200);
  expect(await trips()).toEqual([]);
  await listen(callOfSecond);
  expect(await trips()).toEqual([expect.objectContaining({ details: expect.objectContaining({ reads: 2, limit: 1 }) })]);
});
