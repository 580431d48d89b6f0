import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PointValue } from './appliance-model.js';

export interface ReportedPointRow {
  sn: string;
  point: string;
  value: PointValue;
  at: Date;
}

/** device_reported_points: reads and deletion. Values are written through PersonalDataWriter (they are personal data). */
@Injectable()
export class ReportedPointRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The reported points of these devices held for their current owner, by SN. */
  async ofDevices(sns: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, ReportedPointRow[]>> {
    const rows = (await manager.query(
      `SELECT p.sn, p.point, p.value, p.at
         FROM device_reported_points p JOIN device_bindings b ON b.sn = p.sn AND b.owner_id = p.owner_id
        WHERE p.sn = ANY($1::varchar[]) AND p.value IS NOT NULL
        ORDER BY p.sn, p.point`,
      [[...new Set(sns)]],
    )) as ReportedPointRow[];
    const bySn = new Map<string, ReportedPointRow[]>();
    for (const row of rows) bySn.set(row.sn, [...(bySn.get(row.sn) ?? []), { ...row, at: new Date(row.at) }]);
    return bySn;
  }

  /** Everything reported by the devices this person owns (for the export). */
  async ofOwner(manager: EntityManager, ownerId: string): Promise<ReportedPointRow[]> {
    const rows = (await manager.query(
      'SELECT sn, point, value, at FROM device_reported_points WHERE owner_id = $1 AND value IS NOT NULL ORDER BY sn, point',
      [ownerId],
    )) as ReportedPointRow[];
    return rows.map((row) => ({ ...row, at: new Date(row.at) }));
  }

  /** The device left its owner: what it reported for them goes. */
  async deleteOfDevice(manager: EntityManager, sn: string): Promise<void> {
    await manager.query('DELETE FROM device_reported_points WHERE sn = $1', [sn]);
  }

  async deleteOfOwner(manager: EntityManager, ownerId: string): Promise<void> {
    await manager.query('DELETE FROM device_reported_points WHERE owner_id = $1', [ownerId]);
  }
}
