import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export type DeviceRole = 'owner' | 'member';

/**
 * Who may see a device: the one question other contexts (faults, repairs)
 * ask of ownership, answered from device_bindings and device_members.
 */
@Injectable()
export class DeviceAccess {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The owner's user id, or null when the device is not bound. */
  async ownerOf(sn: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    const rows = (await manager.query('SELECT owner_id AS "ownerId" FROM device_bindings WHERE sn = $1', [sn])) as Array<{
      ownerId: string;
    }>;
    return rows[0]?.ownerId ?? null;
  }

  /** 'owner', 'member', or null when the user has no access to the device. */
  async roleOf(userId: string, sn: string, manager: EntityManager = this.dataSource.manager): Promise<DeviceRole | null> {
    const rows = (await manager.query(
      `SELECT CASE WHEN b.owner_id = $1 THEN 'owner' ELSE 'member' END AS role
         FROM device_bindings b
        WHERE b.sn = $2 AND (b.owner_id = $1 OR EXISTS (SELECT 1 FROM device_members m WHERE m.sn = b.sn AND m.user_id = $1))`,
      [userId, sn],
    )) as Array<{ role: DeviceRole }>;
    return rows[0]?.role ?? null;
  }
}
