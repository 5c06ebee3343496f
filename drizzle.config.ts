import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes reviewed SQL into migrations/; never `push` against real data.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  casing: 'snake_case',
});
