import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../src/auth/passwords.js';
import { issueToken } from '../../src/auth/tokens.js';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { users, type Role } from '../../src/users/users.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { curlMoment } from '../support/recorded-calls.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { FAKE_PBX_LOGIN, fakePbxEnv, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';
import { wavFile } from '../recordings/helpers.js';
import { launchChromium } from './browser.js';

export const PASSWORD = 'console test password';

export interface Person {
  id: number;
  login: string;
  name: string;
  role: Role;
  token: string;
  departmentId: number | null;
}

/**
 * A full Switchboard (HTTP, WebSocket, AMI consumer on a fake PBX, workers) serving the built
 * console, the people of one sales department, and one Chromium. The inbound transcripts ring
 * extension 101 (anna); their caller, +79161234567, is anna's client Romashka.
 */
export interface World {
  database: TestDatabase;
  fake: FakeAmiServer;
  instance: TestInstance;
  browser: Browser;
  departmentId: number;
  people: { anna: Person; boris: Person; curator: Person; director: Person };
  clientIds: { romashka: number; lutik: number };
  /** A signed-in page (the session put where the console keeps it), at `hash`. */
  open(who: Person, hash?: string, opts?: { locale?: string; context?: BrowserContext }): Promise<Page>;
  /** An inbound transcript replayed as recorded, /pbx/route asked where its dialplan asked. */
  replayInbound(scenario: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const browserStarting = launchChromium();
  const database = await createTestDatabase();
  const fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  await database.db.insert(departmentDids).values(['+74951110001', '+74951110002', '+74951110003', '+74951110009'].map((did) => ({ did, departmentId: sales!.id })));
  const passwordHash = await hashPassword(PASSWORD);
  const person = async (name: string, role: Role, extension: string | null): Promise<Person> => {
    const login = `${name.toLowerCase()}-${randomBytes(2).toString("hex")}`;
    const departmentId = role === 'director' ? null : sales!.id;
    const [row] = await database.db.insert(users).values({ login, name, role, extension, departmentId, presence: 'available', passwordHash }).returning({ id: users.id });
    const { token } = await issueToken(database.db, row!.id, 1);
    return { id: row!.id, login, name, role, token, departmentId };
  };
  const people = {
    anna: await person('Anna', 'manager', '101'),
    boris: await person('Boris', 'manager', '201'),
    curator: await person('Clara', 'curator', '200'),
    director: await person('Dmitry', 'director', null),
  };
  const client = async (name: string, ownerId: number, phone: string) => {
    const [row] = await database.db.insert(clients).values({ name, ownerId }).returning({ id: clients.id });
    await database.db.insert(clientPhones).values({ clientId: row!.id, phone, raw: phone });
    return row!.id;
  };
  const clientIds = { romashka: await client('Romashka', people.anna.id, '+79161234567'), lutik: await client('Lutik', people.boris.id, '+79031112233') };
  // Recordings and imported files in a folder of this world's own, removed with it.
  const dataDir = path.resolve(`.data/test/web-${randomBytes(4).toString('hex')}`);
  const instance = await startInstance(database, { ...fakePbxEnv(fake), DATA_DIR: dataDir }, uniquePrefix());
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in to the fake PBX', 10_000);
  const browser = await browserStarting;

  return {
    database,
    fake,
    instance,
    browser,
    departmentId: sales!.id,
    people,
    clientIds,
    async open(who, hash = '#/live', opts = {}) {
      const context = opts.context ?? (await browser.newContext({ locale: opts.locale ?? 'en-US', viewport: { width: 1366, height: 800 } }));
      const session = { token: who.token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), user: { id: who.id, login: who.login, name: who.name, role: who.role, departmentId: who.departmentId, managerId: null } };
      // A function body as text: this file is compiled for Node, the script runs in the page.
      await context.addInitScript(`localStorage.setItem('sb.session', ${JSON.stringify(JSON.stringify(session))});`);
      const page = await context.newPage();
      // A missing element fails the test with its locator, well before the test's own timeout.
      page.setDefaultTimeout(10_000);
      await page.goto(`${instance.baseUrl}/${hash}`);
      await page.locator('[data-testid="live-state"][data-state="online"]').waitFor();
      return page;
    },
    async replayInbound(scenario) {
      const chunks = scenarioChunks(scenario);
      const curl = curlMoment(chunks);
      if (!curl) throw new Error(`${scenario}: no CURL in the dialplan's trail`);
      await fake.replay(scenario, {
        timing: 'recorded',
        afterMessage: async (index) => {
          if (index !== curl.afterIndex) return;
          const q = new URLSearchParams({ ...curl.query, step: '1', format: 'hash', token: TEST_PBX_TOKEN });
          const res = await fetch(`${instance.baseUrl}/pbx/route?${q}`);
          if (res.status !== 200) throw new Error(`/pbx/route answered ${res.status}`);
        },
      });
    },
    async close() {
      await browser.close();
      await instance.runtime.stop();
      await fake.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let seq = 0;
/** An answered inbound call of `ownerId` with `clientId`, stored as the pipeline would; with a recording of that many seconds, uploaded as the PBX does. */
export async function addCall(w: World, clientId: number, ownerId: number, number: string, recordingSeconds?: number): Promise<number> {
  const linkedid = `${1_800_000_000 + ++seq}.${seq}`;
  const [row] = await w.database.db.insert(calls).values({
    systemName: 'default', direction: 'inbound', callerNumber: number, externalNumber: number, clientId, ownerId, answeredById: ownerId, finalUserId: ownerId,
    startedAt: new Date(Date.now() - 120_000), answeredAt: new Date(Date.now() - 110_000), endedAt: new Date(Date.now() - 60_000), talkSeconds: 50, disposition: 'answered',
    linkedid, ...(recordingSeconds && { recordingUniqueid: linkedid }),
  }).returning({ id: calls.id });
  if (recordingSeconds) {
    // 8 kHz 16-bit mono, as MixMonitor writes it: 16,000 bytes a second.
    const res = await fetch(`${w.instance.baseUrl}/pbx/recordings/${linkedid}`, { method: 'PUT', headers: { 'x-switchboard-token': TEST_PBX_TOKEN, 'content-type': 'audio/wav' }, body: wavFile(16_000 * recordingSeconds) });
    if (!res.ok) throw new Error(`recording upload: ${res.status} ${await res.text()}`);
  }
  return row!.id;
}
