import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DesiredStateRepository } from './desired-state.repository.js';
import { DeviceStateAccess } from './device-state-access.js';
import { DeviceRepository } from './device.repository.js';
import { ReportedState } from './reported-state.js';
import { toDesiredView, toHistoryEntryView, type DeviceStateView, type StateHistoryEntryView } from './state.dto.js';

/** The history shows at most this many requests, newest first. */
export const STATE_HISTORY_LIMIT = 200;

/** GET /v1/devices/:sn/state: presence, the reported state and the current desired state, for the owner and members. */
@Injectable()
export class ReadDeviceState {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceStateAccess,
    private readonly devices: DeviceRepository,
    private readonly reported: ReportedState,
    private readonly desired: DesiredStateRepository,
  ) {}

  execute(userId: string, sn: string): Promise<DeviceStateView> {
    return this.dataSource.transaction(async (manager) => {
      const { ownerId } = await this.access.require(manager, userId, sn);
      const presence = (await this.devices.presenceOf(sn, manager))!;
      const latest = await this.desired.latest(sn, ownerId, manager);
      return {
        sn,
        model: presence.model,
        online: presence.online,
        lastSeenAt: presence.lastSeenAt?.toISOString() ?? null,
        reported: await this.reported.of(sn, manager),
        desired: latest ? toDesiredView(latest) : null,
      };
    });
  }
}

/** GET /v1/devices/:sn/state/history: who asked for what and what the appliance did, newest first, for the owner of the moment. */
@Injectable()
export class ReadStateHistory {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceStateAccess,
    private readonly desired: DesiredStateRepository,
  ) {}

  execute(userId: string, sn: string): Promise<StateHistoryEntryView[]> {
    return this.dataSource.transaction(async (manager) => {
      const { ownerId } = await this.access.require(manager, userId, sn);
      return (await this.desired.history(sn, ownerId, STATE_HISTORY_LIMIT, manager)).map(toHistoryEntryView);
    });
  }
}
