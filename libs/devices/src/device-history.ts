import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PersonalDataWriter } from '#libs/privacy';
import { DeviceHistoryRepository } from './device-history.repository.js';
import { DeviceRepository } from './device.repository.js';
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
  constructor(
    private readonly writer: PersonalDataWriter,
    private readonly devices: DeviceRepository,
    private readonly entries: DeviceHistoryRepository,
  ) {}

  async record(
    manager: EntityManager,
    entry: { userId: string; sn: string; role: 'owner' | 'member'; event: HistoryEvent; at: Date },
  ): Promise<void> {
    const model = (await this.devices.modelOf(entry.sn, manager)) ?? 'unknown';
    await this.writer.insert(
      DeviceHistoryEntity,
      entry.userId,
      { sn: entry.sn, model, role: entry.role, event: entry.event, at: entry.at },
      manager,
    );
  }

  async of(manager: EntityManager, userId: string): Promise<HistoryEntry[]> {
    const rows = await this.entries.of(manager, userId);
    return rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() }));
  }
}
