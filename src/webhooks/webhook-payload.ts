import type { StoredCall } from '../calls/call-pipeline.js';

export const WEBHOOK_EVENTS = ['call.started', 'call.answered', 'call.ended', 'security.scraping'] as const;
/** Events about a call (callPayload); the others carry their own payload. */
export type CallWebhookEvent = 'call.started' | 'call.answered' | 'call.ended';
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The JSON an external CRM receives; the shape is part of the public contract (README). */
export function callPayload(event: CallWebhookEvent, call: StoredCall, publicUrl: string) {
  const { summary: s, parties: p } = call;
  return {
    event,
    occurredAt: (event === 'call.ended' ? s.endedAt : event === 'call.answered' ? s.answeredAt : s.startedAt)?.toISOString() ?? null,
    call: {
      id: call.id,
      linkedid: s.linkedid,
      direction: s.direction,
      // The parties' numbers, normalised to E.164 by the pipeline (the summary keeps the DID as
      // the trunk sent it, often without '+'): a CRM matching on them gets one form on every event.
      did: p.did,
      number: p.externalNumber,
      clientId: p.clientId,
      ownerId: p.ownerId,
      initiatedById: p.initiatedById,
      answeredById: p.answeredById,
      finalUserId: p.finalUserId,
      startedAt: s.startedAt.toISOString(),
      answeredAt: s.answeredAt?.toISOString() ?? null,
      endedAt: s.endedAt?.toISOString() ?? null,
      talkSeconds: s.talkSeconds,
      disposition: s.disposition,
      hangupCause: s.hangupCause,
      // A link, not the audio: fetching it needs a Switchboard token with the right to listen.
      recordingUrl: s.recording ? `${publicUrl.replace(/\/$/, '')}/api/calls/${call.id}/recording` : null,
    },
  };
}
