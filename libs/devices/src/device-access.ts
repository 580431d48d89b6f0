import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { BindingRepository, type DeviceRole } from './binding.repository.js';
import { DeviceRepository, type DeviceFacts } from './device.repository.js';
import { ReportedPointRepository } from './reported-point.repository.js';
import { toReportedView, type ReportedView } from './reported-state.js';

export type { DeviceRole } from './binding.repository.js';
export type { DeviceFacts } from './device.repository.js';

/**
 * Devices' door for other contexts (faults, repairs): what they may ask of
 * the registry and of ownership, instead of reading devices,
 * device_bindings or device_members. Each method takes the caller's
 * transaction when it has one.
 */
@Injectable()
export class DeviceAccess {
  constructor(
    private readonly bindings: BindingRepository,
    private readonly devices: DeviceRepository,
    private readonly reported: ReportedPointRepository,
  ) {}

  /** The owner's user id, or null when the device is not bound. */
  ownerOf(sn: string, manager?: EntityManager): Promise<string | null> {
    return this.bindings.ownerOf(sn, manager);
  }

  /** 'owner', 'member', or null when the user has no access to the device. */
  roleOf(userId: string, sn: string, manager?: EntityManager): Promise<DeviceRole | null> {
    return this.bindings.roleOf(userId, sn, manager);
  }

  /** The device's model, or null when no device has this SN. */
  async modelOf(sn: string, manager?: EntityManager): Promise<string | null> {
    return (await this.devices.modelOf(sn, manager)) ?? null;
  }

  /** Registry facts (model, MAC, firmware) and current owner of many devices at once; unknown SNs are absent. */
  factsOf(sns: readonly string[], manager?: EntityManager): Promise<Map<string, DeviceFacts>> {
    return this.devices.factsOf(sns, manager);
  }

  /**
   * The device's reported state as held for its current owner, `{<point>:
   * {value, at}}` (empty when unowned or nothing was reported). It is the
   * owner's personal data: a caller showing it to staff writes the owner's
   * access log in the same transaction.
   */
  async reportedOf(sn: string, manager?: EntityManager): Promise<ReportedView> {
    return toReportedView((await this.reported.ofDevices([sn], manager)).get(sn) ?? []);
  }
}
