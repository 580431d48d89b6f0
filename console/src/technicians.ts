import { api } from './api';
import type { Technician } from './model';

/** Technicians for the assign picker and the technicians page (GET /v1/admin/technicians). */
export const listTechnicians = (): Promise<Technician[]> => api<Technician[]>('faults', 'GET', '/v1/admin/technicians');

export const technicianLabel = (technician: Technician): string =>
  [technician.name, technician.phone].filter(Boolean).join(' · ') || technician.id;
