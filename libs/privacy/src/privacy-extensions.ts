import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { Purpose } from './purposes.js';

/**
 * What another context plugs into privacy beyond its tags: a Nest provider
 * of its own module, marked with one of the two decorators below. The
 * PrivacyModule finds every marked provider of the application (Nest's
 * DiscoveryService), so a context takes part by being imported, with its own
 * services injected; nothing is registered as a side effect of an import.
 *
 *   @ErasureHook('faults')
 *   @Injectable()
 *   export class FaultsErasure implements ErasureHook {
 *     constructor(private readonly reports: FaultReportRepository) {}
 *     onPurposesEnded(manager, subjectId, ended) { ... }
 *   }
 *
 * A name is used once per application: a second provider under the same name is ignored.
 */
export interface ErasureHook {
  /**
   * The person's account is being erased (DELETE /v1/me). Runs inside the
   * erasure transaction, BEFORE tagged columns are nulled, so the hook can
   * still find the person's rows: unbind devices, de-identify records.
   */
  onAccountErased?(manager: EntityManager, subjectId: string): Promise<void>;
  /**
   * Some purposes are no longer live for the person (withdrawal, restriction,
   * account erasure). Runs before tagged columns of those purposes are nulled;
   * use it for de-identification that is more than NULL (e.g. cut a timestamp
   * to the day). Must be idempotent: it may run when nothing changed.
   */
  onPurposesEnded?(manager: EntityManager, subjectId: string, ended: ReadonlySet<Purpose>): Promise<void>;
  /**
   * Retention has just erased values whose period ended (every subject at
   * once). Finish what NULL alone leaves half done, e.g. a record that lost
   * the link to its person keeps nothing else that could lead back to them.
   * Must be idempotent.
   */
  onRetentionApplied?(manager: EntityManager, now: Date): Promise<void>;
}

/** Marks a provider as a context's erasure hook; the argument names it (e.g. 'faults'). */
export const ErasureHook = DiscoveryService.createDecorator<string>();

/**
 * A section of GET /v1/me/export: `{ [name]: await build(manager, subjectId) }`, read in the export's
 * transaction. A section that can be large (a time series) answers an AsyncIterable instead: it is
 * written as a JSON array item by item while the export streams, never held whole in memory.
 */
export interface ExportSection {
  build(manager: EntityManager, subjectId: string): Promise<unknown> | AsyncIterable<unknown>;
}

/** Marks a provider as an export section; the argument is the section's key in the export (e.g. 'faultReports'). */
export const ExportSection = DiscoveryService.createDecorator<string>();

interface Found {
  hooks: Array<readonly [string, ErasureHook]>;
  sections: Array<readonly [string, ExportSection]>;
}

/** Every erasure hook and export section of the running application, found once, in module order. */
@Injectable()
export class PrivacyExtensions {
  private found: Found | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  /** Fixed extensions, for code that runs without Nest (unit specs). */
  static of(hooks: Record<string, ErasureHook> = {}, sections: Record<string, ExportSection> = {}): PrivacyExtensions {
    const extensions = new PrivacyExtensions(undefined as unknown as DiscoveryService);
    extensions.found = { hooks: Object.entries(hooks), sections: Object.entries(sections) };
    return extensions;
  }

  get erasureHooks(): ErasureHook[] {
    return this.discover().hooks.map(([, hook]) => hook);
  }

  get exportSections(): ReadonlyArray<readonly [string, ExportSection]> {
    return this.discover().sections;
  }

  private discover(): Found {
    this.found ??= {
      hooks: this.marked<ErasureHook>(ErasureHook),
      sections: this.marked<ExportSection>(ExportSection),
    };
    return this.found;
  }

  private marked<T>(decorator: typeof ErasureHook): Array<readonly [string, T]> {
    const byName = new Map<string, T>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: decorator.KEY })) {
      const name = this.discovery.getMetadataByDecorator(decorator, wrapper);
      if (!name || !wrapper.instance || byName.has(name)) continue;
      byName.set(name, wrapper.instance as T);
    }
    return [...byName.entries()];
  }
}
