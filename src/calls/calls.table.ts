import { bigint, index, integer, jsonb, pgTable, smallint, text, timestamp, unique } from 'drizzle-orm/pg-core';

export const DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export const DISPOSITIONS = ['answered', 'missed', 'busy', 'failed', 'abandoned'] as const;
export const TRANSFER_KINDS = ['blind', 'attended', 'dial', 'bridge'] as const;

/** One transfer of a call: extensions (or an outside number for `to`) and the users they
 *  belonged to at the time. blind/attended come from Asterisk's transfer events; dial/bridge
 *  are inferred (a new agent took the caller with no transfer event). */
export interface StoredTransfer {
  kind: (typeof TRANSFER_KINDS)[number];
  from: string | null;
  fromUserId: number | null;
  to: string | null;
  toUserId: number | null;
  at: string;
}

/**
 * One row per call (per Linkedid on one PBX). The unique key makes persistence idempotent:
 * replays, duplicated events and AMI reconnects update the same row, never add a second one.
 */
export const calls = pgTable(
  'calls',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    systemName: text().notNull(),
    linkedid: text().notNull(),
    direction: text({ enum: DIRECTIONS }).notNull(),
    did: text(),
    callerNumber: text(),
    /** The external party's number (caller of inbound, dialled customer of outbound), E.164 when it parses. */
    externalNumber: text(),
    clientId: integer(),
    /** The client's owner at the time of the call. */
    ownerId: integer(),
    /** Who clicked, for click-to-call. */
    initiatedById: integer(),
    answeredById: integer(),
    finalUserId: integer(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    ringingAt: timestamp({ withTimezone: true }),
    answeredAt: timestamp({ withTimezone: true }),
    endedAt: timestamp({ withTimezone: true }),
    talkSeconds: integer(),
    /** null while the call is live. */
    disposition: text({ enum: DISPOSITIONS }),
    hangupCause: smallint(),
    failureReason: text(),
    rang: jsonb().$type<Array<{ extension: string; userId: number | null; at: string }>>().notNull().default([]),
    legs: jsonb().$type<unknown[]>().notNull().default([]),
    /** Who handed the caller to whom, in order (see StoredTransfer). */
    transfers: jsonb().$type<StoredTransfer[]>().notNull().default([]),
    recordingUniqueid: text(),
    recordingFile: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.systemName, t.linkedid),
    index().on(t.clientId, t.startedAt),
    index().on(t.ownerId, t.startedAt),
    index().on(t.answeredById, t.startedAt),
    index().on(t.startedAt),
    index().on(t.recordingUniqueid),
  ],
);

/** A stored recording, found in RECORDINGS_DIR or pushed by the PBX; keyed by the channel Uniqueid. */
export const recordings = pgTable(
  'recordings',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    systemName: text().notNull(),
    uniqueid: text().notNull(),
    storageKey: text().notNull(),
    contentType: text().notNull(),
    sizeBytes: bigint({ mode: 'number' }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.systemName, t.uniqueid)],
);
