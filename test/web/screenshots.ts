import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from '../../src/auth/passwords.js';
import { issueToken } from '../../src/auth/tokens.js';
import { clientContacts, clientPhones, clients } from '../../src/clients/clients.table.js';
import { loadConfig } from '../../src/config.js';
import { ensureConsoleBuild } from '../../src/console/console-build.js';
import { createDatabase } from '../../src/db/client.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrations } from '../../src/db/migrate.js';
import { deals } from '../../src/deals/deals.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { ensureRedis } from '../../src/infra/embedded-redis.js';
import { freePort } from '../../src/infra/ports.js';
import { createLogger } from '../../src/logger.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { calls } from '../../src/calls/calls.table.js';
import { wavFile } from '../recordings/helpers.js';
import { createRuntime } from '../../src/runtime.js';
import { users } from '../../src/users/users.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { curlMoment } from '../support/recorded-calls.js';
import { launchChromium } from './browser.js';

// `npm run screenshots`: a seeded instance on a throw-away PostgreSQL and Redis, the fake PBX
// ringing a recorded call, and Chromium taking the main screens into docs/ (the README shows them).
const PBX_TOKEN = 'screenshots-only-0123456789';
const logger = createLogger('warn');
const dataDir = path.resolve(`.data/screenshots-${process.pid}`);
const docs = path.resolve('docs');
await ensureConsoleBuild((m) => process.stdout.write(`${m}\n`));
await mkdir(docs, { recursive: true });
const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres', logger });
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const redis = await ensureRedis({ url: redisUrl, dataDir, logger });
const fake = await FakeAmiServer.start({ username: 'switchboard', secret: 'ami-secret' });
const database = createDatabase(pg.url);
try {
  await runMigrations(database.db);
  const db = database.db;
  const [sales] = await db.insert(departments).values({ name: 'Продажи', lineKind: 'queue', lineTarget: 'sales', timeZone: 'Europe/Moscow' }).returning();
  await db.insert(departmentDids).values([{ did: '+74951110001', departmentId: sales!.id }]);
  const passwordHash = await hashPassword('screenshots');
  const [anna, director] = await db.insert(users).values([
    { login: 'anna', name: 'Анна Смирнова', role: 'manager', extension: '101', departmentId: sales!.id, presence: 'available', passwordHash },
    { login: 'director', name: 'Дмитрий Орлов', role: 'director', presence: 'available', passwordHash },
  ]).returning();
  const seeded = [
    ['ООО «Ромашка»', '+79161234567', true],
    ['ИП Лютиков', '+79031112233', false],
    ['Васильки и партнёры', '+79035556677', false],
    ['ТД «Колокольчик»', '+74957654321', true],
  ] as const;
  const ids: number[] = [];
  for (const [name, phone, important] of seeded) {
    const [row] = await db.insert(clients).values({ name, ownerId: anna!.id, important, status: 'current', lastActivityAt: new Date() }).returning({ id: clients.id });
    await db.insert(clientPhones).values({ clientId: row!.id, phone, raw: phone });
    ids.push(row!.id);
  }
  await db.insert(clientContacts).values({ clientId: ids[0]!, name: 'Пётр Иванов', position: 'Директор', decisionMaker: true });
  await db.insert(clientNotes).values({ clientId: ids[0]!, text: 'Просили прайс на паллеты до пятницы', authorId: anna!.id, kind: 'note' });
  await db.insert(deals).values([
    { clientId: ids[0]!, title: 'Паллеты, 400 шт.', ownerId: anna!.id, amount: '240000', status: 'new' },
    { clientId: ids[1]!, title: 'Стрейч-плёнка', ownerId: anna!.id, amount: '56000', status: 'proposal_sent' },
    { clientId: ids[2]!, title: 'Коробки под заказ', ownerId: anna!.id, amount: '130000', status: 'interest' },
    { clientId: ids[3]!, title: 'Годовой контракт', ownerId: anna!.id, amount: '1200000', status: 'contract_approval' },
  ]);

  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, REDIS_URL: redisUrl, PBX_TOKEN, AMI_HOST: '127.0.0.1', AMI_PORT: String(fake.port), AMI_USERNAME: 'switchboard', AMI_SECRET: 'ami-secret', DEVICE_DIAL_TEMPLATE: 'Local/{extension}@fake-phones' });
  const runtime = await createRuntime({ config, logger: createLogger('silent'), database });
  await runtime.app.listen({ host: '127.0.0.1', port: 0 });
  await runtime.start();
  const base = `http://127.0.0.1:${(runtime.app.server.address() as { port: number }).port}`;
  const browser = await launchChromium();
  const shot = async (token: string | null, hash: string, file: string, before?: (page: import('playwright-core').Page) => Promise<void>) => {
    const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1366, height: 768 } });
    if (token) {
      const me = token === annaToken ? anna! : director!;
      const session = { token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), user: { id: me.id, login: me.login, name: me.name, role: me.role, departmentId: me.departmentId, managerId: null } };
      await context.addInitScript(`localStorage.setItem('sb.session', ${JSON.stringify(JSON.stringify(session))});`);
    }
    const page = await context.newPage();
    await page.goto(`${base}/${hash}`);
    await page.waitForLoadState('networkidle');
    await before?.(page);
    await page.screenshot({ path: path.join(docs, file) });
    process.stdout.write(`docs/${file}\n`);
    await context.close();
  };
  const { token: annaToken } = await issueToken(db, anna!.id, 1);
  const { token: directorToken } = await issueToken(db, director!.id, 1);

  await shot(null, '', 'console-sign-in.png');
  await shot(annaToken, '#/live', 'console-live-pop.png', async (page) => {
    // The recorded inbound call rings anna's phone (101); the route webhook asked where the dialplan asked.
    const chunks = scenarioChunks('a_inbound_answered');
    const curl = curlMoment(chunks)!;
    void fake.replay('a_inbound_answered', {
      timing: 'recorded',
      afterMessage: async (index) => {
        if (index === curl.afterIndex) await fetch(`${base}/pbx/route?${new URLSearchParams({ ...curl.query, step: '1', format: 'hash', token: PBX_TOKEN })}`);
      },
    });
    await page.locator('[data-testid=pop]').waitFor({ timeout: 15_000 });
    await page.fill('[data-testid=pop] textarea', 'Нужен прайс на паллеты, перезвонить в пятницу');
  });
  await shot(annaToken, '#/clients', 'console-clients.png', (page) => page.locator('[data-testid=client-row]').first().waitFor());
  await shot(annaToken, `#/clients/${ids[0]}`, 'console-client-card.png', (page) => page.locator('[data-testid=client-card]').waitFor());
  await shot(annaToken, '#/deals', 'console-deals.png', (page) => page.locator('.deal').first().waitFor());
  // Recorded calls of the last days for the supervisors' screens, and a scorecard.
  for (let i = 0; i < 6; i++) {
    const linkedid = `1790000000.${i}`;
    const startedAt = new Date(Date.now() - (i * 26 + 2) * 3600_000);
    await db.insert(calls).values({ systemName: 'default', direction: i % 3 === 2 ? 'outbound' : 'inbound', callerNumber: seeded[i % 4]![1], externalNumber: seeded[i % 4]![1], clientId: ids[i % 4]!, ownerId: anna!.id, answeredById: anna!.id, finalUserId: anna!.id,
      startedAt, answeredAt: new Date(startedAt.getTime() + 8_000), endedAt: new Date(startedAt.getTime() + 98_000), talkSeconds: 90, disposition: 'answered', linkedid, recordingUniqueid: linkedid });
    await fetch(`${base}/pbx/recordings/${linkedid}`, { method: 'PUT', headers: { 'x-switchboard-token': PBX_TOKEN, 'content-type': 'audio/wav' }, body: wavFile(16_000 * 90) });
  }
  await fetch(`${base}/api/scorecards`, {
    method: 'POST',
    headers: { authorization: `Bearer ${directorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Входящий звонок', criteria: [{ key: 'greeting', label: 'Поздоровался и представился', weight: 1, kind: 'yes_no' }, { key: 'needs', label: 'Выяснил потребность', weight: 2, kind: 'scale', max: 5 }] }),
  });
  await shot(directorToken, '#/review', 'console-review.png', async (page) => {
    await page.locator('[data-testid=review-row] button').first().click();
    await page.locator('[data-testid=player] .wave > div').waitFor();
    await page.locator('[data-testid=player] audio').evaluate((a: { currentTime: number }) => void (a.currentTime = 31));
    await page.fill('input[name=comment]', 'Не уточнил объём заказа');
  });
  await shot(directorToken, '#/stats', 'console-stats.png', (page) => page.locator('[data-testid=stats-chart] canvas').waitFor());
  await shot(directorToken, '#/admin', 'console-admin.png', (page) => page.locator('[data-testid=users] td').first().waitFor());
  await browser.close();
  await runtime.stop();
} finally {
  await database.close();
  await fake.close();
  await redis.stop();
  await pg.stop();
  await rm(dataDir, { recursive: true, force: true });
}
// A client of the stopped Redis may still be retrying its connection: the script is done.
process.exit(process.exitCode ?? 0);
