import { api, ApiError } from './api';
import type { Technician } from './model';

/**
 * Technicians for the assign picker: GET /v1/admin/technicians where the API has it;
 * otherwise null, and the console asks for the technician's id (as returned on creation).
 */
export async function listTechnicians(): Promise<Technician[] | null> {
  try {
    return await api<Technician[]>('faults', 'GET', '/v1/admin/technicians');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

export const technicianLabel = (technician: Technician): string =>
  [technician.name, technician.phone].filter(Boolean).join(' · ') || technician.id;
