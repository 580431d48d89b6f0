import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrivacyCatalog } from './catalog.js';
import { PersonalDataRepository } from './personal-data.repository.js';
import { PrivacyExtensions } from './privacy-extensions.js';
import { PURPOSES, type Purpose } from './purposes.js';

/**
 * Generic erasure, driven by the tags: for one person, every tagged column in
 * every registered table whose purposes are all dead is set to NULL. Tables
 * added by later contexts are covered as soon as their entities are tagged.
 */
@Injectable()
export class PersonalDataEraser {
  constructor(
    private readonly catalog: PrivacyCatalog,
    private readonly storage: PersonalDataRepository,
    private readonly extensions: PrivacyExtensions,
  ) {}

  /** Erases what `live` no longer covers; returns how many rows lost values. Runs the erasure hooks first. */
  async eraseDead(manager: EntityManager, subjectId: string, live: ReadonlySet<Purpose>, accountErased = false): Promise<number> {
    const ended = new Set(PURPOSES.filter((purpose) => !live.has(purpose)));
    for (const hook of this.extensions.erasureHooks) {
      if (accountErased) await hook.onAccountErased?.(manager, subjectId);
      if (ended.size > 0) await hook.onPurposesEnded?.(manager, subjectId, ended);
    }
    let rows = 0;
    for (const table of this.catalog.sweptTables) {
      const dead = table.columns.filter((column) => column.purposes.every((purpose) => !live.has(purpose)));
      rows += await this.storage.eraseColumnsOf(manager, table, dead, subjectId);
    }
    return rows;
  }
}
