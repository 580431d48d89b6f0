import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { HistoryEvent } from './pairing.entity.js';

export interface HistoryRow {
  sn: string | null;
  model: string;
  role: 'owner' | 'member';
  event: HistoryEvent;
  at: Date;
}

/** device_history: reads and deletion. Entries are written through PersonalDataWriter (the SN in them is personal data). */
@Injectable()
export class DeviceHistoryRepository {
  async of(manager: EntityManager, userId: string): Promise<HistoryRow[]> {
    return (await manager.query('SELECT sn, model, role, event, at FROM device_history WHERE user_id = $1 ORDER BY at DESC, id DESC', [
      userId,
    ])) as HistoryRow[];
  }

  async deleteOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('DELETE FROM device_history WHERE user_id = $1', [userId]);
  }
}
