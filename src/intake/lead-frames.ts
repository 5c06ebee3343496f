import type { Audience } from '../events/event-bus.js';
import type { LeadRow } from './intake.schemas.js';
import type { OpenedDeal } from './leads.service.js';

// The frames screens get about leads (README, "Screen-pop"). Published once on the bus: the bus
// delivers to this instance's sockets and, through Redis, to every other instance's.

export interface Publish {
  (to: Audience, frame: object): void;
}

/** To the deal's owner: a lead became their deal (matched by phone, or a curator chose them). */
export function dealAssigned(deal: OpenedDeal, lead: LeadRow): [Audience, object] {
  return [
    { userIds: [deal.ownerId] },
    { type: 'deal.assigned', dealId: deal.dealId, clientId: deal.clientId, title: deal.title, source: 'site', leadId: lead.id, assignedById: lead.assignedById },
  ];
}

/**
 * To the department's curators and the directors, at once: a lead waits for an owner. It carries
 * what a curator needs to pick somebody without opening it; the message stays in the lead.
 */
export function leadNew(lead: LeadRow): [Audience, object] {
  return [
    { supervisorsOf: [lead.departmentId] },
    { type: 'lead.new', leadId: lead.id, departmentId: lead.departmentId, siteId: lead.siteId, name: lead.name, phone: lead.phone ?? lead.phoneRaw, email: lead.email, createdAt: lead.createdAt.toISOString() },
  ];
}

/** To the same supervisors: the lead left the waiting room (their counters go down). */
export function leadAssigned(lead: LeadRow): [Audience, object] {
  return [{ supervisorsOf: [lead.departmentId] }, { type: 'lead.assigned', leadId: lead.id, departmentId: lead.departmentId, userId: lead.assignedToId, dealId: lead.dealId }];
}
