import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { UserRepository } from './user.repository.js';

/** A technician as the dispatcher's picker shows them. */
export interface TechnicianContact {
  id: string;
  name: string | null;
  phone: string | null;
}

/**
 * Identity's door for other contexts: what they may ask about accounts,
 * instead of reading the users table. Each method takes the caller's
 * transaction when it has one. Reading a person's name or phone is a read
 * of personal data: the caller logs it (AccessLogService) where it serves it.
 */
@Injectable()
export class IdentityDirectory {
  constructor(private readonly users: UserRepository) {}

  /** True when the account holds the technician role and is not erased. */
  isActiveTechnician(userId: string, manager?: EntityManager): Promise<boolean> {
    return this.users.isActiveTechnician(userId, manager);
  }

  /** Every active technician, by name. */
  activeTechnicians(manager?: EntityManager): Promise<TechnicianContact[]> {
    return this.users.activeTechnicians(manager);
  }

  /** The account's name and phone as stored (null once erased or withdrawn), or null when there is no such account. */
  async contactOf(userId: string, manager?: EntityManager): Promise<{ name: string | null; phone: string | null } | null> {
    const user = await this.users.findById(userId, manager);
    return user ? { name: user.name, phone: user.phone } : null;
  }
}
