import type { EntityManager } from 'typeorm';
import type { Purpose } from './purposes.js';

/**
 * What another context plugs into privacy. Registration is by name (a second
 * registration under the same name replaces the first), so a module may
 * register from onModuleInit with its own services in the closure.
 */
export interface ErasureHook {
  name: string;
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

/** Adds a section to GET /v1/me/export: `{ [name]: await build(manager, subjectId) }`. */
export type ExportSection = (manager: EntityManager, subjectId: string) => Promise<unknown>;

const erasureHooks = new Map<string, ErasureHook>();
const exportSections = new Map<string, ExportSection>();

export function registerErasureHook(hook: ErasureHook): void {
  erasureHooks.set(hook.name, hook);
}

export function registerExportSection(name: string, build: ExportSection): void {
  exportSections.set(name, build);
}

export function listErasureHooks(): ErasureHook[] {
  return [...erasureHooks.values()];
}

export function listExportSections(): Array<[string, ExportSection]> {
  return [...exportSections.entries()];
}
