import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD_FILE, bootstrapAdmin } from '../../src/auth/bootstrap-admin.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import { users } from '../../src/users/users.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// The first start creates the director `admin`. A generated password must reach the operator
// without passing through the log (logs are shipped and kept; no secrets in them).

let database: TestDatabase;
let dir: string;
const lines: string[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'sb-admin-'));
});
afterEach(async () => {
  await database.db.delete(users);
  lines.length = 0;
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('the first director', () => {
  it('gets a generated password in DATA_DIR, readable by the service user only, and the log says where, not what', async () => {
    const dataDir = path.join(dir, 'a');
    await bootstrapAdmin(database.db, logger, undefined, dataDir);
    const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
    const password = (await readFile(file, 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const [admin] = await database.db.select().from(users).where(eq(users.login, 'admin'));
    expect(admin?.role).toBe('director');
    expect(await verifyPassword(admin!.passwordHash, password)).toBe(true);
    expect(lines.join('')).toContain(file);
    expect(lines.join('')).not.toContain(password);

    // A second start finds a user and changes nothing.
    await writeFile(file, 'changed-by-the-operator\n');
    await bootstrapAdmin(database.db, logger, undefined, dataDir);
    expect(await database.db.$count(users)).toBe(1);
    expect(await readFile(file, 'utf8')).toBe('changed-by-the-operator\n');
  });

  it('with ADMIN_PASSWORD writes no file', async () => {
    const dataDir = path.join(dir, 'b');
    await bootstrapAdmin(database.db, logger, 'from-the-environment-1', dataDir);
    await expect(stat(path.join(dataDir, ADMIN_PASSWORD_FILE))).rejects.toThrow();
    const [admin] = await database.db.select().from(users);
    expect(await verifyPassword(admin!.passwordHash, 'from-the-environment-1')).toBe(true);
    expect(lines.join('')).not.toContain('from-the-environment-1');
  });

  it('creates nobody and says what to do when the file cannot be written', async () => {
    const notADir = path.join(dir, 'plain-file');
    await writeFile(notADir, 'x');
    await expect(bootstrapAdmin(database.db, logger, undefined, notADir)).rejects.toThrow(/make DATA_DIR writable or set ADMIN_PASSWORD/);
    expect(await database.db.$count(users)).toBe(0);
  });
});
