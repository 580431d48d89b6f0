import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PersonalDataWriter } from '#libs/privacy';
import { DeviceHistoryEntity, type HistoryEvent } from './pairing.entity.js';

export interface HistoryEntry {
  sn: string | null;
  model: string;
  role: 'owner' | 'member';
  event: HistoryEvent;
  at: string;
}

/** Writes and reads a person's device history (the SN in it is personal data, so writes go through the writer). */
@Injectable()
export class DeviceHistory {
  constructor(private readonly writer: PersonalDataWriter) {}

  async record(
    manager: EntityManager,
    entry: { userId: string; sn: string; role: 'owner' | 'member'; event: HistoryEvent; at: Date },
  ): Promise<void> {
    const [device] = (await manager.query('SELECT model FROM devices WHERE sn = $1', [entry.sn])) as Array<{ model: string }>;
    await this.writer.insert(
      DeviceHistoryEntity,
      entry.userId,
      { sn: entry.sn, model: device?.model ?? 'unknown', role: entry.role, event: entry.event, at: entry.at },
      manager,
    );
  }

  async of(manager: EntityManager, userId: string): Promise<HistoryEntry[]> {
    const rows = (await manager.query(
      'SELECT sn, model, role, event, at FROM device_history WHERE user_id = $1 ORDER BY at DESC, id DESC',
      [userId],
    )) as Array<{ sn: string | null; model: string; role: 'owner' | 'member'; event: HistoryEvent; at: Date }>;
    return rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() }));
  }
}
