// Every table, for drizzle-kit and for typed queries. Tables live beside their feature.
export * from '../departments/departments.table.js';
export * from '../users/users.table.js';
export * from '../auth/tokens.table.js';
export * from '../clients/clients.table.js';
export * from '../clients/name-words.table.js';
export * from '../routing/route-decisions.table.js';
export * from '../audit/audit.table.js';
export * from '../calls/calls.table.js';
export * from '../notes/notes.table.js';
export * from '../deals/deals.table.js';
export * from '../reminders/reminders.table.js';
export * from '../webhooks/webhooks.table.js';
export * from '../history/history.table.js';
export * from '../intake/intake.table.js';
export * from '../settings/settings.table.js';
export * from '../review/review.table.js';
export * from '../stats/stats.table.js';
