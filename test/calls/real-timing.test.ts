import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { routeDecisions } from '../../src/routing/route-decisions.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { curlMoment, linkedidOf, recordedOriginateId } from '../support/recorded-calls.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// Issue 17: every call keeps its client. Each recorded call is replayed into a running instance
// with the gaps a real Asterisk left between its messages, GET /pbx/route is asked at the moment
// the recorded dialplan ran its CURL(), and click-to-calls start through POST
// /api/calls/originate with a clientId. The routing trace's batching delay is set below the
// PBX's first events (the decision is in the table before the phone rings) and above them (it
// is still queued when the pop and the first upsert look for the client). The scenarios of one
// instance run side by side: their Linkedids differ, and all calls of a file take ~25 s.

type Person = 'anna' | 'boris' | 'vera' | 'desk200' | 'desk100';
type Client = 'romashka' | 'lutik' | 'vasilek';

interface Scenario {
  key: string;
  file: string;
  /** Inbound: how the route webhook fared for the recorded dialplan. Click-to-call: who clicked. */
  kind: { inbound: 'answers' | 'down' | 'slow' } | { clickedBy: Person; to: string };
  client: Client;
  owner: Person;
  answeredBy: Person | null;
  finalUser: Person | null;
  disposition: string;
  /** Screens that must have been popped for the call. */
  popped: Person[];
}

// The caller of every inbound transcript is 79161234567, Romashka's number; its owner is anna.
// Routing answers with client_id = Romashka whatever it dials; the replayed Dial()s are the
// recorded ones. Click-to-calls name their client, and that wins over any number the PBX shows:
// e2 dialled 301, and f/f2/f3 (never reaching a customer) carry the recorder's CallerID
// 79161234567, Romashka's, while boris and vera call Lutik and Vasilek.
const SCENARIOS: Scenario[] = [
  { key: 'a', file: 'a_inbound_answered', kind: { inbound: 'answers' }, client: 'romashka', owner: 'anna', answeredBy: 'anna', finalUser: 'anna', disposition: 'answered', popped: ['anna'] },
  { key: 'b', file: 'b_inbound_noanswer_fallback', kind: { inbound: 'answers' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'missed', popped: ['boris', 'desk200'] },
  { key: 'b2', file: 'b2_inbound_noanswer_fallback_answered', kind: { inbound: 'answers' }, client: 'romashka', owner: 'anna', answeredBy: 'desk100', finalUser: 'desk100', disposition: 'answered', popped: ['boris', 'desk100'] },
  { key: 'c', file: 'c_inbound_busy', kind: { inbound: 'answers' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'missed', popped: ['desk200'] },
  { key: 'd', file: 'd_webhook_down', kind: { inbound: 'down' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'missed', popped: ['desk200'] },
  { key: 'g', file: 'g_caller_hangs_up_while_ringing', kind: { inbound: 'answers' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'abandoned', popped: ['boris'] },
  { key: 'h', file: 'h_webhook_slow', kind: { inbound: 'slow' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'missed', popped: ['desk200'] },
  { key: 'e', file: 'e_click_to_call_answered', kind: { clickedBy: 'anna', to: '+79161234567' }, client: 'romashka', owner: 'anna', answeredBy: 'anna', finalUser: 'anna', disposition: 'answered', popped: [] },
  { key: 'e2', file: 'e2_click_to_call_customer_busy', kind: { clickedBy: 'anna', to: '+79161234567' }, client: 'romashka', owner: 'anna', answeredBy: null, finalUser: null, disposition: 'busy', popped: [] },
  { key: 'f', file: 'f_click_to_call_manager_noanswer', kind: { clickedBy: 'boris', to: '+79031112233' }, client: 'lutik', owner: 'boris', answeredBy: null, finalUser: null, disposition: 'failed', popped: [] },
  { key: 'f2', file: 'f2_click_to_call_manager_busy', kind: { clickedBy: 'vera', to: '+79035556677' }, client: 'vasilek', owner: 'vera', answeredBy: null, finalUser: null, disposition: 'failed', popped: [] },
  { key: 'f3', file: 'f3_click_to_call_noanswer_with_channelid', kind: { clickedBy: 'boris', to: '+79031112233' }, client: 'lutik', owner: 'boris', answeredBy: null, finalUser: null, disposition: 'failed', popped: [] },
];

/** The trace writer's batching delay, in ms: below the ~3 ms from CURL to the first ring, the default, and far above. */
const FLUSH_DELAYS = [1, 50, 400] as const;

type Frame = { type: string; [k: string]: unknown };
type Payload = { event: string; call: Record<string, unknown> };

interface World {
  flushEveryMs: number;
  database: TestDatabase;
  fake: FakeAmiServer;
  instance: TestInstance;
  people: Record<Person, { id: number; token: string }>;
  clientIds: Record<Client, number>;
  screens: Record<Person, Awaited<ReturnType<typeof connectScreen>>>;
  /** Scenario key → the call's Linkedid. */
  linkedids: Record<string, string>;
}

let receiver: http.Server;
let receiverUrl: string;
/** Webhook bodies by the path they were posted to (one endpoint per world). */
const hooks = new Map<string, Payload[]>();
const worlds: World[] = [];

async function startWorld(flushEveryMs: number): Promise<World> {
  const database = await createTestDatabase();
  const fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  await database.db.insert(departmentDids).values(['+74951110001', '+74951110002', '+74951110003', '+74951110009'].map((did) => ({ did, departmentId: sales!.id })));
  const extensions: Record<Person, string> = { anna: '101', boris: '201', vera: '301', desk200: '200', desk100: '100' };
  const people = {} as World['people'];
  for (const [name, extension] of Object.entries(extensions) as Array<[Person, string]>) {
    people[name] = await insertUser(database, { role: 'manager', name, extension, departmentId: sales!.id, presence: 'available' });
  }
  const clientIds = {} as World['clientIds'];
  const cards: Array<[Client, Person, string]> = [['romashka', 'anna', '+79161234567'], ['lutik', 'boris', '+79031112233'], ['vasilek', 'vera', '+79035556677']];
  for (const [name, owner, phone] of cards) {
    const [row] = await database.db.insert(clients).values({ name, ownerId: people[owner].id }).returning();
    clientIds[name] = row!.id;
    await database.db.insert(clientPhones).values({ clientId: row!.id, phone, raw: phone });
  }
  const instance = await startInstance(database, {
    ...fakePbxEnv(fake),
    PUBLIC_URL: 'https://sb.example.com',
    // The webhook receiver listens on loopback: allowed as a director would allow a LAN CRM.
    WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
  }, uniquePrefix(), { traceFlushEveryMs: flushEveryMs });
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 10_000);
  const director = await insertUser(database, { role: 'director', name: 'director' });
  const registered = await fetch(`${instance.baseUrl}/api/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${director.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiverUrl}/${flushEveryMs}` }),
  });
  if (registered.status !== 201) throw new Error(`webhook endpoint not registered: ${registered.status}`);
  const screens = {} as World['screens'];
  for (const name of Object.keys(extensions) as Person[]) screens[name] = await connectScreen(instance.wsUrl, people[name].token);
  return { flushEveryMs, database, fake, instance, people, clientIds, screens, linkedids: {} };
}

/** The recorded inbound call, with /pbx/route asked where its dialplan asked it. */
async function replayInbound(world: World, s: Scenario, webhook: 'answers' | 'down' | 'slow'): Promise<void> {
  const chunks = scenarioChunks(s.file);
  world.linkedids[s.key] = linkedidOf(chunks);
  const curl = curlMoment(chunks);
  if (!curl) throw new Error(`${s.file}: no CURL in the dialplan's trail`);
  let late: Promise<unknown> = Promise.resolve();
  await world.fake.replay(s.file, {
    timing: 'recorded',
    afterMessage: async (index) => {
      if (index !== curl.afterIndex || webhook === 'down') return; // down: nothing reached us
      const q = new URLSearchParams({ ...curl.query, step: '1', format: 'hash', token: TEST_PBX_TOKEN });
      const asked = fetch(`${world.instance.baseUrl}/pbx/route?${q}`).then(async (res) => {
        if (res.status !== 200) throw new Error(`/pbx/route answered ${res.status}`);
        return res.text();
      });
      // Asterisk waits for CURL() before the next step; a slow answer came after it gave up.
      if (webhook === 'answers') await asked;
      else late = asked;
    },
  });
  await late;
}

/**
 * A click in the console; the fake PBX answers the Originate with the recorded session. Resolves
 * once the Originate is answered, with the replay still running.
 */
async function clickToCall(world: World, s: Scenario, by: Person, to: string): Promise<{ replayed: Promise<void> }> {
  const recordedId = recordedOriginateId(s.file);
  let replayed!: Promise<void>;
  world.fake.onAction('Originate', (action) => {
    const ours = action.headers['channelid'];
    // f3 was recorded with ChannelId crm-c2c-0005: the PBX would have used the one we sent.
    const channelIds: Record<string, string> = ours && s.file.startsWith('f3_') ? { 'crm-c2c-0005': ours } : {};
    replayed = world.fake.replay(s.file, { timing: 'recorded', actionIds: { [recordedId]: action.actionId! }, channelIds });
  });
  const res = await fetch(`${world.instance.baseUrl}/api/calls/originate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${world.people[by].token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, clientId: world.clientIds[s.client] }),
  });
  if (res.status !== 202) throw new Error(`${s.key}: POST /api/calls/originate answered ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { linkedid: string };
  await waitFor(() => replayed, `${s.key}: the Originate at the fake PBX`, 5_000);
  // A call matched by ActionID keeps the recording's Linkedid; f3's is our ChannelId.
  world.linkedids[s.key] = s.file.startsWith('f3_') ? body.linkedid : linkedidOf(scenarioChunks(s.file));
  return { replayed };
}

async function runWorld(world: World): Promise<void> {
  const inbound = SCENARIOS.flatMap((s) => ('inbound' in s.kind ? [replayInbound(world, s, s.kind.inbound)] : []));
  // One Originate handler per fake PBX: clicks go one at a time, their calls then run side by side.
  const clicks = (async () => {
    const running: Array<Promise<void>> = [];
    for (const s of SCENARIOS) {
      if ('clickedBy' in s.kind) running.push((await clickToCall(world, s, s.kind.clickedBy, s.kind.to)).replayed);
    }
    await Promise.all(running);
  })();
  await Promise.all([...inbound, clicks]);
  for (const s of SCENARIOS) {
    await eventually(async () => (await storedCall(world, s))?.endedAt, `${s.key} stored as ended (flush ${world.flushEveryMs} ms)`, 10_000);
  }
  await world.instance.runtime.pipeline.drain();
  for (const s of SCENARIOS) {
    await eventually(async () => payloads(world, s).some((p) => p.event === 'call.ended'), `${s.key}: call.ended webhook (flush ${world.flushEveryMs} ms)`, 15_000);
  }
}

async function storedCall(world: World, s: Scenario) {
  const linkedid = world.linkedids[s.key];
  if (!linkedid) return null;
  const [row] = await world.database.db.select().from(calls).where(eq(calls.linkedid, linkedid));
  return row ?? null;
}

const payloads = (world: World, s: Scenario): Payload[] =>
  (hooks.get(`/hooks/${world.flushEveryMs}`) ?? []).filter((p) => p.call.linkedid === world.linkedids[s.key]);

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const list = hooks.get(String(req.url)) ?? [];
      list.push(JSON.parse(body) as Payload);
      hooks.set(String(req.url), list);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  worlds.push(...(await Promise.all(FLUSH_DELAYS.map(startWorld))));
  await Promise.all(worlds.map(runWorld));
}, 90_000);

afterAll(async () => {
  for (const w of worlds) {
    for (const s of Object.values(w.screens)) s.close();
    await w.instance.runtime.stop();
    await w.fake.close();
    await w.database.drop();
  }
  receiver?.close();
});

const worldOf = (flushEveryMs: number) => worlds.find((w) => w.flushEveryMs === flushEveryMs)!;
const idOf = (w: World, who: Person | null) => (who === null ? null : w.people[who].id);

describe.each(FLUSH_DELAYS)('recorded timing, routing trace batched every %i ms', (flushEveryMs) => {
  describe.each(SCENARIOS)('($key) $file', (s) => {
    it('is stored with the recorded outcome: direction, who answered, who had it last', async () => {
      const w = worldOf(flushEveryMs);
      const row = (await storedCall(w, s))!;
      expect(row).toMatchObject({
        direction: 'inbound' in s.kind ? 'inbound' : 'outbound',
        disposition: s.disposition,
        answeredById: idOf(w, s.answeredBy),
        finalUserId: idOf(w, s.finalUser),
        ...('clickedBy' in s.kind && { initiatedById: idOf(w, s.kind.clickedBy) }),
      });
      for (const who of s.popped) expect(w.screens[who].of('call.ringing', row.linkedid), `${who}'s pop`).not.toHaveLength(0);
      if (!('inbound' in s.kind)) return;
      // The dialplan's question reached the route endpoint (not when the webhook was down), and
      // routing chose the client: the evidence the call must keep.
      const trace = await w.database.db.select().from(routeDecisions).where(eq(routeDecisions.linkedid, row.linkedid));
      expect(trace.map((t) => ({ step: t.step, clientId: t.clientId }))).toEqual(s.kind.inbound === 'down' ? [] : [{ step: 1, clientId: w.clientIds.romashka }]);
    });

    it('is stored with its client and owner', async () => {
      const w = worldOf(flushEveryMs);
      expect(await storedCall(w, s)).toMatchObject({ clientId: w.clientIds[s.client], ownerId: idOf(w, s.owner) });
    });

    it('shows the card on every pop, or links it to the same screen afterwards', () => {
      const w = worldOf(flushEveryMs);
      const linkedid = w.linkedids[s.key]!;
      for (const [who, screen] of Object.entries(w.screens)) {
        const frames = screen.frames.filter((f: Frame) => f.linkedid === linkedid);
        frames.forEach((f, i) => {
          if (f.type !== 'call.ringing') return;
          const card = (f.client as { clientId?: number } | null)?.clientId;
          if (card !== undefined) {
            expect(card, `${who}'s pop`).toBe(w.clientIds[s.client]);
            return;
          }
          const linked = frames.slice(i + 1).find((l) => l.type === 'call.client_linked');
          expect(linked, `${who} got a pop without a card (${frames.map((x) => x.type).join(', ')}) and no call.client_linked after it`).toMatchObject({
            linkedid,
            newClient: false,
            client: { clientId: w.clientIds[s.client], owner: { id: idOf(w, s.owner) } },
          });
        });
      }
    });

    it('names the client in its webhooks', () => {
      const w = worldOf(flushEveryMs);
      const sent = payloads(w, s);
      expect(sent.map((p) => p.event)).toEqual(expect.arrayContaining(['call.started', 'call.ended']));
      // call.started says what was known at the call's first event (before routing, before an
      // Originate's response); from the answer on, and at the end, the client is settled.
      for (const p of sent.filter((x) => x.event !== 'call.started')) {
        expect(p.call, p.event).toMatchObject({ clientId: w.clientIds[s.client], ownerId: idOf(w, s.owner) });
      }
    });
  });

  it("gives every missed call's callback to the client's owner", async () => {
    const w = worldOf(flushEveryMs);
    const callbacks = await w.database.db.select().from(reminders).where(eq(reminders.kind, 'callback'));
    // b, c, d, g and h are missed calls from Romashka: one callback, counted up, or settled by a or b2.
    expect(callbacks.length).toBeGreaterThan(0);
    for (const c of callbacks) expect(c).toMatchObject({ clientId: w.clientIds.romashka, userId: w.people.anna.id, phone: '+79161234567' });
  });
});
