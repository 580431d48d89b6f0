import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '#libs/platform';
import { BindingRepository, type DeviceRole } from './binding.repository.js';

/** Who may read and control a device's state: its owner and members. Anyone else learns nothing, not even that it exists. */
@Injectable()
export class DeviceStateAccess {
  constructor(private readonly bindings: BindingRepository) {}

  /**
   * The caller's role and the device's owner; the binding is held FOR SHARE
   * until the transaction ends, so the device cannot leave its owner halfway.
   * 404 for anyone who is neither owner nor member.
   */
  async require(manager: EntityManager, userId: string, sn: string): Promise<{ role: DeviceRole; ownerId: string }> {
    const ownerId = (await this.bindings.lockOwnersShared(manager, [sn])).get(sn);
    const role = ownerId ? await this.bindings.roleOf(userId, sn, manager) : null;
    if (!ownerId || !role) throw new DomainError('NOT_FOUND', 'No such device among yours');
    return { role, ownerId };
  }
}
