import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createDirectorySync, DirectoryUnavailableError, type DirectorySync } from '../../src/routing/directory/directory-sync.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { eventually } from '../support/test-runtime.js';

// The in-memory routing directory against a real PostgreSQL: every change, from any writer,
// must be in the directory once `barrier()` resolves (what a write through the API waits for),
// and once `asOf` has passed its commit (what /pbx/route trusts, moved by the heartbeat).

let database: TestDatabase;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
/** Two instances: `a` connects directly, `b` through a proxy that can cut it off. */
let a: DirectorySync;
let b: DirectorySync;
let anna: number;
let boris: number;
let sales: number;
let reception: number;

const sql = (text: string, values: unknown[] = []) => database.pool.query(text, values);
const one = async <T = number>(text: string, values: unknown[] = []) => (await sql(text, values)).rows[0].id as T;
const ownersOf = (sync: DirectorySync, phone: string) => sync.directory.factsFor(phone, '', 'Reception').owners.map((o) => o.id);
const clientsOf = (sync: DirectorySync, phone: string) => sync.directory.factsFor(phone, '', 'Reception').clients.map((c) => c.id);

beforeAll(async () => {
  database = await createTestDatabase();
  sales = await one(`insert into departments (name, line_kind, line_target) values ('Sales', 'queue', 'sales') returning id`);
  reception = await one(`insert into departments (name, line_kind, line_target) values ('Reception', 'dial', 'PJSIP/500') returning id`);
  await sql(`insert into department_dids (did, department_id) values ('+74951110001', $1)`, [sales]);
  const addUser = (login: string) =>
    one(`insert into users (login, name, password_hash, role, department_id, extension, presence) values ($1, $1, 'x', 'manager', $2, $3, 'available') returning id`, [login, sales, login === 'anna' ? '101' : '102']);
  anna = await addUser('anna');
  boris = await addUser('boris');

  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  const proxied = new URL(database.url);
  proxied.port = String(proxy.port);
  const logger = createLogger('silent');
  a = createDirectorySync({ connection: { connectionString: database.url }, logger });
  b = createDirectorySync({ connection: { connectionString: proxied.toString() }, logger });
  await Promise.all([a.start(), b.start()]);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await proxy?.close();
  await database?.drop();
});

describe('directory sync', () => {
  it('loads what is already there on start', () => {
    expect(a.ready && b.ready).toBe(true);
    expect(a.directory.departmentFor('+74951110001', 'Reception')?.id).toBe(sales);
    expect(b.directory.size).toMatchObject({ users: 2, departments: 2 });
  });

  it('sees each change committed by another connection as soon as the barrier resolves, in both instances', async () => {
    const client = await one(`insert into clients (name, owner_id) values ('Ромашка', $1) returning id`, [anna]);
    await sql(`insert into client_phones (client_id, phone, raw) values ($1, '+79161234567', '8 916 123-45-67')`, [client]);
    // No waiting between the commit and the barrier: a directory that answered before reading
    // the notified rows back would show the previous owner on some of these rounds.
    for (let round = 0; round < 40; round++) {
      const owner = round % 2 === 0 ? boris : anna;
      await sql('update clients set owner_id = $2 where id = $1', [client, owner]);
      await Promise.all([a.barrier(), b.barrier()]);
      expect([ownersOf(a, '+79161234567'), ownersOf(b, '+79161234567')], `round ${round}`).toEqual([[owner], [owner]]);
    }
  });

  it('proves itself current by its own heartbeat: whatever was committed before `asOf` is in the directory', async () => {
    const client = await one(`insert into clients (name, owner_id) values ('heartbeat', $1) returning id`, [anna]);
    await sql(`insert into client_phones (client_id, phone, raw) values ($1, '+79167770000', 'x')`, [client]);
    // No barrier here: /pbx/route relies on `asOf` alone, so it must never run ahead of the rows.
    for (let round = 0; round < 20; round++) {
      const owner = round % 2 === 0 ? boris : anna;
      await sql('update clients set owner_id = $2 where id = $1', [client, owner]);
      const committed = Date.now();
      await eventually(async () => a.asOf > committed || null, `asOf past the commit of round ${round}`);
      expect(ownersOf(a, '+79167770000'), `round ${round}`).toEqual([owner]);
    }
  });

  it('follows numbers moved between clients, deleted clients, inactive owners and presence', async () => {
    const first = await one(`insert into clients (name, owner_id) values ('first', $1) returning id`, [anna]);
    const second = await one(`insert into clients (name, owner_id) values ('second', $1) returning id`, [boris]);
    const phone = await one(`insert into client_phones (client_id, phone, raw) values ($1, '+79031112233', 'x') returning id`, [first]);
    await a.barrier();
    expect(clientsOf(a, '+79031112233')).toEqual([first]);

    await sql('update client_phones set client_id = $2 where id = $1', [phone, second]);
    await a.barrier();
    expect(clientsOf(a, '+79031112233')).toEqual([second]);

    await sql(`update users set presence = 'dnd' where id = $1`, [boris]);
    await a.barrier();
    expect(a.directory.factsFor('+79031112233', '', 'Reception').owners[0]?.presence).toBe('dnd');

    await sql('update users set active = false where id = $1', [boris]);
    await a.barrier();
    expect(ownersOf(a, '+79031112233')).toEqual([]);

    await sql('delete from clients where id = $1', [second]);
    await a.barrier();
    expect(clientsOf(a, '+79031112233')).toEqual([]);
    await sql(`update users set active = true, presence = 'available' where id = $1`, [boris]);
  });

  it('reads changes back on its own too, with no call asking', async () => {
    await sql(`update departments set voicemail_box = '700@default' where id = $1`, [sales]);
    await eventually(async () => a.directory.departmentFor('+74951110001', 'none')?.voicemailBox === '700@default' || null, 'the change read back without a barrier');
  });

  it('follows a DID moved to another department, a rename, and a TRUNCATE', async () => {
    await sql(`update department_dids set department_id = $1 where did = '+74951110001'`, [reception]);
    await a.barrier();
    expect(a.directory.departmentFor('+74951110001', 'none')?.id).toBe(reception);

    await sql(`update departments set name = 'Front desk' where id = $1`, [reception]);
    await a.barrier();
    expect(a.directory.departmentFor('+70000000000', 'Reception')).toBeNull();
    expect(a.directory.departmentFor('+70000000000', 'Front desk')?.id).toBe(reception);

    await sql('truncate department_dids');
    await a.barrier();
    expect(a.directory.departmentFor('+74951110001', 'none')).toBeNull();
    expect(a.directory.size.clients).toBeGreaterThan(0);
  });

  it('refuses to vouch for its facts while disconnected, and reloads what changed meanwhile on reconnect', async () => {
    proxy.setMode('refuse');
    await expect(b.barrier()).rejects.toBeInstanceOf(DirectoryUnavailableError);
    expect(b.ready).toBe(false);

    const late = await one(`insert into clients (name, owner_id) values ('written while b was away', $1) returning id`, [anna]);
    await sql(`insert into client_phones (client_id, phone, raw) values ($1, '+79265554433', 'x')`, [late]);

    proxy.setMode('forward');
    await eventually(async () => b.ready || null, 'b reconnected and reloaded');
    await b.barrier();
    expect(clientsOf(b, '+79265554433')).toEqual([late]);
  });

  it('gives up on a hung server: the barrier does not resolve, the listener is replaced, and it recovers', async () => {
    proxy.setMode('blackhole');
    const outcome = await Promise.race([
      b.barrier().then(() => 'resolved', () => 'rejected'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300)),
    ]);
    expect(outcome).toBe('still waiting');
    // The ping timeout (2 s) declares the listener lost.
    await eventually(async () => !b.ready || null, 'b noticed the hang', 5_000);
    await expect(b.barrier()).rejects.toBeInstanceOf(DirectoryUnavailableError);
    proxy.setMode('forward');
    await eventually(async () => b.ready || null, 'b reconnected', 8_000);
    await expect(b.barrier()).resolves.toBeUndefined();
  });
});
