import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { PersonalDataWriter } from '#libs/privacy';
import type { PointValue } from './appliance-model.js';
import { BindingRepository } from './binding.repository.js';
import { ReportedPointEntity } from './reported-point.entity.js';
import { ReportedPointRepository, type ReportedPointRow } from './reported-point.repository.js';

/** New values of some points of one device, each with the time it was true at the device. */
export type ReportedValues = Record<string, { value: PointValue; at: Date }>;

/** The reported state as it leaves the process: `{<point>: {value, at}}`. */
export type ReportedView = Record<string, { value: PointValue; at: string }>;

/**
 * A device's reported state: the newest value of each point, held for its
 * owner of the moment. Callers pass values already judged against the
 * model (checkPointValue). For each point the value with the newest `at`
 * wins, whatever the order values arrive in: a late older reading never
 * overwrites a newer one (the rule is the upsert's WHERE, so it holds
 * across replicas too). A device nobody owns keeps nothing.
 */
@Injectable()
export class ReportedState {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writer: PersonalDataWriter,
    private readonly bindings: BindingRepository,
    private readonly points: ReportedPointRepository,
  ) {}

  /** Merges one device's values; answers the owner they were kept for, or null (not owned: nothing kept). */
  async merge(sn: string, values: ReportedValues, manager?: EntityManager): Promise<{ ownerId: string | null }> {
    const owners = await this.mergeMany([{ sn, values }], manager);
    return { ownerId: owners.get(sn) ?? null };
  }

  /** Merges values of many devices in one statement (a batch of reports or readings); answers the owner of each device kept. */
  async mergeMany(updates: ReadonlyArray<{ sn: string; values: ReportedValues }>, manager?: EntityManager): Promise<Map<string, string>> {
    const newest = new Map<string, { sn: string; point: string; value: PointValue; at: Date }>();
    for (const { sn, values } of updates) {
      for (const [point, { value, at }] of Object.entries(values)) {
        const key = `${sn}\u0000${point}`;
        const known = newest.get(key);
        if (!known || known.at < at) newest.set(key, { sn, point, value, at });
      }
    }
    if (newest.size === 0) return new Map();
    const work = async (tx: EntityManager) => {
      const owners = await this.bindings.lockOwnersShared(
        tx,
        updates.map((update) => update.sn),
      );
      const rows = [...newest.values()]
        .filter((row) => owners.has(row.sn))
        .map((row) => ({ subjectId: owners.get(row.sn)!, values: { sn: row.sn, point: row.point, value: row.value, at: row.at } }));
      await this.writer.insertMany(
        ReportedPointEntity,
        rows,
        { upsert: { conflict: ['sn', 'point'], update: ['ownerId', 'value', 'at'], newerBy: 'at' } },
        tx,
      );
      return owners;
    };
    return manager ? work(manager) : this.dataSource.transaction(work);
  }

  /** The device's reported state for its current owner (empty when unowned or nothing was reported). */
  async of(sn: string, manager?: EntityManager): Promise<ReportedView> {
    return (await this.ofDevices([sn], manager)).get(sn) ?? {};
  }

  /** The reported state of many devices, by SN; devices with nothing are absent. */
  async ofDevices(sns: readonly string[], manager?: EntityManager): Promise<Map<string, ReportedView>> {
    const answer = new Map<string, ReportedView>();
    for (const [sn, rows] of await this.points.ofDevices(sns, manager)) answer.set(sn, toReportedView(rows));
    return answer;
  }
}

export function toReportedView(rows: readonly ReportedPointRow[]): ReportedView {
  return Object.fromEntries(rows.map((row) => [row.point, { value: row.value, at: row.at.toISOString() }]));
}
