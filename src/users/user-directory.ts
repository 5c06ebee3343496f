import type pg from 'pg';

export interface DirectoryUser {
  id: number;
  name: string;
  extension: string | null;
  departmentId: number | null;
  managerId: number | null;
  role: string;
}

const REFRESH_MS = 30_000;

/**
 * Users by extension, in memory: every ringing event needs "whose phone is 101?" and the AMI
 * handler must stay cheap. Refreshed every 30 s and on a miss (a user created a minute ago).
 */
export function createUserDirectory(pool: pg.Pool) {
  let byExtension = new Map<string, DirectoryUser>();
  let byId = new Map<number, DirectoryUser>();
  let loadedAt = 0;

  async function refresh(): Promise<void> {
    const { rows } = await pool.query<DirectoryUser>(
      `select id, name, extension, department_id as "departmentId", manager_id as "managerId", role from users where active`,
    );
    byExtension = new Map(rows.filter((u) => u.extension).map((u) => [u.extension!, u]));
    byId = new Map(rows.map((u) => [u.id, u]));
    loadedAt = Date.now();
  }

  return {
    refresh,
    async byExtension(extension: string): Promise<DirectoryUser | null> {
      const hit = byExtension.get(extension);
      if (hit || Date.now() - loadedAt < 2_000) return hit ?? null;
      await refresh();
      return byExtension.get(extension) ?? null;
    },
    cachedByExtension: (extension: string) => byExtension.get(extension) ?? null,
    byId: (id: number) => byId.get(id) ?? null,
    /** Assistants working for this manager: they see the manager's calls and reminders too. */
    assistantsOf: (managerId: number) => [...byId.values()].filter((u) => u.managerId === managerId).map((u) => u.id),
    startRefreshing() {
      const timer = setInterval(() => void refresh().catch(() => {}), REFRESH_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

export type UserDirectory = ReturnType<typeof createUserDirectory>;
