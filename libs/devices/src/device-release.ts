import { Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { BindingRepository } from './binding.repository.js';
import { DeviceHistory } from './device-history.js';
import type { HistoryEvent } from './pairing.entity.js';
import { ReportedPointRepository } from './reported-point.repository.js';
import { DesiredStateNotifier } from './desired-state.notifier.js';
import { DesiredStateRepository } from './desired-state.repository.js';

export type ReleaseEvent = Extract<HistoryEvent, 'unbound' | 'factory_reset' | 'owner_left'>;

/**
 * A device leaving its owner: the binding is deleted (members lose the device
 * with it), what the device reported for that owner and its state history
 * (control requests) are deleted (the next owner sees none of it), and each
 * person who loses it gets a history entry
 * saying how.
 * `owner_left` (the owner's account is erased) writes nothing for the owner,
 * who is gone; members read `owner_left`, or `factory_reset` after a reset.
 */
@Injectable()
export class DeviceRelease {
  constructor(
    private readonly bindings: BindingRepository,
    private readonly history: DeviceHistory,
    private readonly reported: ReportedPointRepository,
    private readonly desired: DesiredStateRepository,
    @Optional() private readonly notifier?: DesiredStateNotifier,
  ) {}

  /** True when the device was bound. Call it in the caller's transaction. */
  async release(manager: EntityManager, sn: string, event: ReleaseEvent, now: Date): Promise<boolean> {
    const members = await this.bindings.membersOf(sn, manager);
    const owner = await this.bindings.unbind(manager, sn);
    if (!owner) return false;
    await this.reported.deleteOfDevice(manager, sn);
    // The state history goes too; a request still pending is taken back from the device (where the app can send MQTT).
    if ((await this.desired.deleteOfDevice(manager, sn)) && this.notifier) await this.notifier.clear(sn);
    if (event !== 'owner_left') await this.history.record(manager, { userId: owner, sn, role: 'owner', event, at: now });
    const memberEvent: HistoryEvent = event === 'factory_reset' ? 'factory_reset' : 'owner_left';
    for (const member of members)
      await this.history.record(manager, { userId: member.userId, sn, role: 'member', event: memberEvent, at: now });
    return true;
  }
}
