import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANSWER_KEYS, decodeHashBody, encodeHashBody, toAnswer } from '../../src/routing/answer-format.js';
import { decodeCandidates, encodeCandidates, tracedPlan } from '../../src/routing/trace-encoding.js';
import type { RouteCandidate, RouteDecision } from '../../src/routing/types.js';

// The trace keeps the answer as its hash body and the plan in a short text (migration 0025);
// whatever was decided must read back exactly, separators, percent signs and ids of either type
// included.

const anyText = fc.string({ unit: 'grapheme', maxLength: 12 });
const specialText = fc.string({ unit: fc.constantFrom('%', ',', ';', '=', ':', 'a', '1', 'ё', ' '), maxLength: 8 });
const text = fc.oneof(anyText, specialText);
const entityId = fc.oneof(fc.nat(), text);

const candidate: fc.Arbitrary<RouteCandidate> = fc.record(
  {
    target: fc.oneof(fc.constantFrom('owner', 'owner_mobile', 'department', 'voicemail'), text),
    userId: entityId,
    departmentId: entityId,
    skipped: fc.oneof(fc.constantFrom('presence:away', 'device:inuse', 'no_mobile', 'already_tried'), text),
    chosen: fc.constant(true as const),
  },
  { requiredKeys: ['target'] },
) as fc.Arbitrary<RouteCandidate>;

describe('trace encoding', () => {
  it('reads back every plan it wrote', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 5 }), (candidates) => {
        expect(decodeCandidates(encodeCandidates(candidates))).toEqual(candidates);
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes a plain plan readably', () => {
    const plan: RouteCandidate[] = [
      { target: 'owner', userId: 17, skipped: 'device:inuse' },
      { target: 'owner_mobile', userId: 17, chosen: true },
      { target: 'department', departmentId: 3 },
    ];
    expect(encodeCandidates(plan)).toBe('owner;u=17;skipped=device:inuse,owner_mobile;u=17;chosen,department;d=3');
    // A numeric-looking string id stays a string.
    expect(decodeCandidates(encodeCandidates([{ target: 'owner', userId: '17' }]))).toEqual([{ target: 'owner', userId: '17' }]);
  });

  it('reads back every answer from its hash body', () => {
    const decision = fc.record({
      action: fc.constantFrom('dial', 'queue', 'voicemail', 'hangup'),
      dial: text,
      queue: text,
      mailbox: text,
      clientName: fc.string({ unit: 'binary', maxLength: 20 }),
      clientId: fc.oneof(fc.nat(), fc.constant(undefined)),
      step: fc.integer({ min: 1, max: 9 }),
    });
    fc.assert(
      fc.property(decision, text, (d, callId) => {
        const answer = toAnswer({ ...d, reason: 'owner', tie: false, candidates: [] } as RouteDecision, { callId, tried: '1o' });
        expect(decodeHashBody(encodeHashBody(answer))).toEqual(answer);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads a row of either age: text since migration 0025, json before', () => {
    const answer = toAnswer({ action: 'dial', dial: 'PJSIP/101', step: 1, reason: 'owner', clientName: 'ООО «Ромашка»', tie: false, candidates: [] }, { callId: '1.1' });
    const candidates: RouteCandidate[] = [{ target: 'owner', userId: 7, chosen: true }];
    const fromText = tracedPlan({ answer: null, candidates: null, answerBody: encodeHashBody(answer), candidateList: encodeCandidates(candidates) });
    const fromJson = tracedPlan({ answer, candidates, answerBody: null, candidateList: null });
    expect(fromText).toEqual({ answer, candidates });
    expect(fromJson).toEqual(fromText);
    // A key the hash body does not know is ignored, not added (nor a prototype key).
    const blank = Object.fromEntries(ANSWER_KEYS.map((key) => [key, '']));
    expect(decodeHashBody('action=dial&constructor=x&extra=1')).toEqual({ ...blank, action: 'dial' });
  });
});
