import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A registered device as firmware campaigns see it: its SN and the firmware it last reported. */
export interface DeviceFirmware {
  sn: string;
  firmware: string | null;
}

/**
 * What the firmware context reads and writes of the registry: the devices of a
 * model (campaign targets), the firmware a device reports, and the secret hash
 * a device's image download is checked against.
 */
@Injectable()
export class DeviceFirmwareRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Devices of `model` that may connect (not revoked), only those of `sns` when given, by SN. */
  async devicesOfModel(
    model: string,
    sns?: readonly string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<DeviceFirmware[]> {
    const rows = (await manager.query(
      `SELECT sn, firmware FROM devices
        WHERE model = $1 AND secret_hash IS NOT NULL AND ($2::varchar[] IS NULL OR sn = ANY($2::varchar[]))
        ORDER BY sn`,
      [model, sns ?? null],
    )) as DeviceFirmware[];
    return rows;
  }

  /** The registry follows what the device reports; true when the value changed. */
  async recordReportedFirmware(sn: string, firmware: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const [, changed] = (await manager.query(
      `UPDATE devices SET firmware = $2, updated_at = now() WHERE sn = $1 AND firmware IS DISTINCT FROM $2`,
      [sn, firmware],
    )) as [unknown, number];
    return changed > 0;
  }

  /** The device's secret hash, null when unknown or revoked (for checking a download's credentials). */
  async secretHash(sn: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    const rows = (await manager.query(`SELECT secret_hash FROM devices WHERE sn = $1`, [sn])) as Array<{ secret_hash: string | null }>;
    return rows[0]?.secret_hash ?? null;
  }
}
