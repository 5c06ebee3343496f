// Reading a recorded call for what the real PBX did besides its AMI traffic: when its dialplan
// asked GET /pbx/route, and with which parameters (transcripts README, `[from-pstn]`).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAmi } from '../../src/pbx/ami-frame.js';
import { transcriptsDir, type Chunk } from '../pbx/fake-ami-server.js';

const header = (chunk: Chunk, name: string): string | null =>
  new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`).exec(`\r\n${chunk.bytes.toString('latin1')}`)?.[1] ?? null;

export interface CurlMoment {
  /** The route was asked after this message was received and answered before the next one. */
  afterIndex: number;
  atMs: number;
  query: { caller: string; did: string; uniqueid: string; linkedid: string };
}

/**
 * `Set(HASH(route)=${CURL(…)})`: Asterisk substitutes the CURL before it raises the Newexten,
 * so the request went out right after the previous step (`Set(CURLOPT(hashcompat)=yes)`) and its
 * answer is in the next message (the `~ODBCFIELDS~` VarSet, then `HASH(route)=…`).
 */
export function curlMoment(chunks: readonly Chunk[]): CurlMoment | null {
  const index = chunks.findIndex((c) => header(c, 'Event') === 'Newexten' && header(c, 'AppData') === 'CURLOPT(hashcompat)=yes' && /@from-pstn-/.test(header(c, 'Channel') ?? ''));
  if (index === -1) return null;
  const chunk = chunks[index]!;
  const did = /^Local\/([^@]+)@from-pstn-/.exec(header(chunk, 'Channel')!)![1]!;
  return {
    afterIndex: index,
    atMs: chunk.atMs,
    query: { caller: header(chunk, 'CallerIDNum') ?? '', did, uniqueid: header(chunk, 'Uniqueid') ?? '', linkedid: header(chunk, 'Linkedid') ?? '' },
  };
}

/** The Linkedid of the recorded call (every channel of one call shares it). */
export function linkedidOf(chunks: readonly Chunk[]): string {
  for (const c of chunks) {
    const id = header(c, 'Linkedid');
    if (id) return id;
  }
  throw new Error('no Linkedid in the transcript');
}

/** The ActionID the recorder gave its Originate (`<scenario>.sent.ami`). */
export function recordedOriginateId(scenario: string): string {
  const sent = parseAmi(readFileSync(resolve(transcriptsDir(), `${scenario}.sent.ami`))).messages;
  const id = sent.find((m) => m['Action']?.toLowerCase() === 'originate')?.['ActionID'];
  if (!id) throw new Error(`${scenario}: no Originate ActionID`);
  return id;
}
