import { describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth/viewer.js';
import { canListen, sniffAudio, type CallPerson } from '../../src/recordings/recordings.service.js';
import type { Role } from '../../src/users/users.table.js';

const viewer = (id: number, role: Role, departmentId: number | null = null, managerId: number | null = null): Viewer => ({
  id, login: `u${id}`, name: `u${id}`, role, departmentId, managerId,
});
const person = (id: number, departmentId: number | null = null, managerId: number | null = null): CallPerson => ({ id, departmentId, managerId });

// Department 1: manager 10 (assistants 11, 12), manager 20. Department 2: manager 30 (assistant 31).
const m10 = person(10, 1);
const a11 = person(11, 1, 10);
const m20 = person(20, 1);
const m30 = person(30, 2);
const a31 = person(31, 2, 30);

describe('canListen', () => {
  const cases: Array<[string, Viewer, CallPerson[], boolean]> = [
    ['director hears any call', viewer(1, 'director'), [m30], true],
    ['director hears a call nobody took', viewer(1, 'director'), [], true],
    ['curator hears a call of their department', viewer(2, 'curator', 1), [m20], true],
    ['curator hears a call answered in their department for another department\'s client', viewer(2, 'curator', 1), [m30, m10], true],
    ['curator does not hear another department', viewer(2, 'curator', 1), [m30, a31], false],
    ['curator without a department hears nothing of others', viewer(2, 'curator', null), [person(40, null)], false],
    ['curator hears a call they took themselves', viewer(2, 'curator', 2), [person(2, 2)], true],
    ['manager hears calls of the clients they own or calls they took', viewer(10, 'manager', 1), [m10], true],
    ['manager hears their assistant\'s calls', viewer(10, 'manager', 1), [a11], true],
    ['manager does not hear a colleague in the same department', viewer(10, 'manager', 1), [m20], false],
    ['manager does not hear another manager\'s assistant', viewer(10, 'manager', 1), [a31], false],
    ['assistant hears their manager\'s calls', viewer(11, 'assistant', 1, 10), [m10], true],
    ['assistant hears a fellow assistant of the same manager', viewer(11, 'assistant', 1, 10), [person(12, 1, 10)], true],
    ['assistant hears a call they took', viewer(11, 'assistant', 1, 10), [a11], true],
    ['assistant does not hear another manager', viewer(11, 'assistant', 1, 10), [m20], false],
    ['assistant without a manager hears only their own', viewer(13, 'assistant', 1, null), [m10], false],
    ['nobody but the director hears a call with no people', viewer(10, 'manager', 1), [], false],
  ];

  it.each(cases)('%s', (_name, who, people, expected) => {
    expect(canListen(who, people)).toBe(expected);
  });
});

describe('sniffAudio', () => {
  it('knows WAV, Ogg and MP3 by their first bytes', () => {
    expect(sniffAudio(Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'))).toBe('wav');
    expect(sniffAudio(Buffer.from('OggS\x00\x02', 'latin1'))).toBe('ogg');
    expect(sniffAudio(Buffer.from('ID3\x04\x00', 'latin1'))).toBe('mp3');
    expect(sniffAudio(Buffer.from([0xff, 0xfb, 0x90, 0x00]))).toBe('mp3');
    expect(sniffAudio(Buffer.from('<html><body>'))).toBeNull();
    expect(sniffAudio(Buffer.from('RIFF\x00\x00\x00\x00AVI ', 'latin1'))).toBeNull();
    expect(sniffAudio(Buffer.alloc(0))).toBeNull();
  });
});
