import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '#libs/platform';
import { PolicyRepository, type PolicyRow } from './policy.repository.js';

export interface PolicyVersionView {
  version: string;
  effectiveAt: string;
  summary: string;
}

export interface PolicyOverview {
  current: PolicyVersionView;
  upcoming: PolicyVersionView[];
}

/** The statement announces changes 30 days ahead; a shorter notice is refused. */
export const POLICY_NOTICE_DAYS = 30;

const toView = (row: PolicyRow): PolicyVersionView => ({
  version: row.version,
  effectiveAt: row.effective_at.toISOString(),
  summary: row.summary,
});

@Injectable()
export class PolicyService {
  constructor(private readonly policies: PolicyRepository) {}

  async overview(now = new Date()): Promise<PolicyOverview> {
    const rows = await this.policies.all();
    const inForce = rows.filter((row) => row.effective_at.getTime() <= now.getTime());
    if (inForce.length === 0) throw new DomainError('UNAVAILABLE', 'No privacy policy is in force');
    return {
      current: toView(inForce[inForce.length - 1]),
      upcoming: rows.filter((row) => row.effective_at.getTime() > now.getTime()).map(toView),
    };
  }

  /** The version consents given now are given under. */
  async versionInForce(manager?: EntityManager, now = new Date()): Promise<string> {
    const version = await this.policies.versionAt(now, manager);
    if (!version) throw new DomainError('UNAVAILABLE', 'No privacy policy is in force');
    return version;
  }

  async publish(input: { version: string; effectiveAt: Date; summary: string }, now = new Date()): Promise<PolicyVersionView> {
    const earliest = new Date(now.getTime() + POLICY_NOTICE_DAYS * 24 * 3600 * 1000);
    if (Number.isNaN(input.effectiveAt.getTime()) || input.effectiveAt.getTime() < earliest.getTime()) {
      throw new DomainError(
        'POLICY_NOTICE_TOO_SHORT',
        `A new policy needs ${POLICY_NOTICE_DAYS} days' notice: effectiveAt must be on or after ${earliest.toISOString()}`,
      );
    }
    const row = await this.policies.insertNew({ version: input.version, effective_at: input.effectiveAt, summary: input.summary });
    if (!row) throw new DomainError('CONFLICT', `Policy version ${input.version} already exists; versions are never rewritten`);
    return toView(row);
  }
}
