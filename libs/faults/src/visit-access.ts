import { DomainError } from '#libs/platform';
import type { RepairTicketEntity } from './repair-ticket.entity.js';

/**
 * The visit-access rule: a technician sees a repair only while it is their
 * visit, i.e. assigned to them and not completed (nor cancelled). Anyone else,
 * and the same technician once the visit is completed, gets 403 "This visit
 * is not yours", before anything is read or logged; no such repair is 404.
 */
export function visitOf(ticket: RepairTicketEntity | null, technicianId: string): RepairTicketEntity {
  if (!ticket) throw new DomainError('NOT_FOUND', 'No repair has this id');
  if (ticket.technicianId !== technicianId || ticket.status !== 'assigned') throw new DomainError('FORBIDDEN', 'This visit is not yours');
  return ticket;
}
