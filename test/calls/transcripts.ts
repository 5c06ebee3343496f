// Reads a recorded AMI session (../shared/ami-transcripts, or AMI_TRANSCRIPTS_DIR) into typed
// events with their receive times from the matching `.times.tsv`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAmi } from '../../src/pbx/ami-frame.js';
import { toAmiEvent, type AmiEvent } from '../../src/pbx/events.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function transcriptsDir(): string {
  return process.env.AMI_TRANSCRIPTS_DIR ?? path.resolve(REPO_ROOT, '../shared/ami-transcripts');
}

export interface TimedEvent {
  event: AmiEvent;
  at: Date;
}

/** Receive times start here (the transcripts' own dates are in their Cdr fields). */
export const SESSION_START = Date.UTC(2026, 10, 22, 12, 0, 0);

/** `name` is the scenario file without `.ami`, e.g. `a_inbound_answered` or
 *  `with-systemname/a_inbound_answered`. Raw messages that toAmiEvent drops are left out. */
export function readScenario(name: string): TimedEvent[] {
  const base = path.join(transcriptsDir(), name);
  const { messages } = parseAmi(readFileSync(`${base}.ami`));
  const timesFile = `${base}.times.tsv`;
  // One row per message in file order, plus the actions we sent ("Sent"), which are not in .ami.
  const times = existsSync(timesFile)
    ? readFileSync(timesFile, 'utf8').trim().split('\n').slice(1)
      .map((line) => line.split('\t'))
      .filter((cols) => cols[1] !== 'Sent')
      .map((cols) => Number(cols[0]))
    : [];
  if (times.length !== 0 && times.length !== messages.length) {
    throw new Error(`${name}: ${messages.length} messages but ${times.length} receive times`);
  }
  const out: TimedEvent[] = [];
  messages.forEach((raw, i) => {
    const event = toAmiEvent(raw);
    if (event) out.push({ event, at: new Date(SESSION_START + (times[i] ?? i)) });
  });
  return out;
}
