import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { PersonalDataWriter } from '#libs/privacy';
import { DesiredRequestEntity } from './desired-request.entity.js';
import { mergeDesired, readDesiredRequest } from './desired-state.js';
import { DesiredStateNotifier } from './desired-state.notifier.js';
import { DesiredStateRepository } from './desired-state.repository.js';
import { DeviceStateAccess } from './device-state-access.js';
import { ModelCatalog } from './model-catalog.js';
import type { DesiredAcceptedView } from './state.dto.js';

/**
 * PUT /v1/devices/:sn/state/desired, in one transaction. With the binding
 * held FOR SHARE, the request is judged against the device's model (400
 * naming the point, nothing sent, nothing locked). Then, with the device's
 * version row locked (so two family
 * members setting at once take versions one after the other): `ifVersion` is
 * checked against the current desired version, the values merge into the
 * request still pending under the next version, the request is kept, and
 * all pending values go out as the retained desired message before the
 * transaction commits; a report or the sweep settling the device waits for
 * that lock, so the retained message is always the newest state.
 */
@Injectable()
export class SetDesiredState {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceStateAccess,
    private readonly catalog: ModelCatalog,
    private readonly desired: DesiredStateRepository,
    private readonly writer: PersonalDataWriter,
    private readonly notifier: DesiredStateNotifier,
    private readonly clock: Clock,
  ) {}

  async execute(userId: string, sn: string, body: unknown): Promise<DesiredAcceptedView> {
    return this.dataSource.transaction(async (manager) => {
      // Access first, so a stranger learns nothing of the device's model from the validation errors;
      // a refused request ends the transaction before the version row is touched.
      const { role, ownerId } = await this.access.require(manager, userId, sn);
      const device = await this.catalog.definitionOfDevice(sn, manager);
      const request = readDesiredRequest(device?.definition ?? null, body);
      if (!request.ok) throw new DomainError('VALIDATION_FAILED', request.reasons.join('; '));
      const { values, ttlSeconds, ifVersion } = request.value;
      const version = await this.desired.nextVersion(manager, sn);
      const latest = await this.desired.latest(sn, ownerId, manager);
      const current = latest?.version ?? 0;
      if (ifVersion !== undefined && ifVersion !== current) {
        throw new DomainError('VERSION_CONFLICT', `The current desired version is ${current}, not ${ifVersion}`);
      }
      const now = this.clock.now();
      const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
      const merged = mergeDesired(latest?.status === 'pending' ? latest.merged : null, values);
      await this.desired.extendPending(manager, sn, expiresAt);
      await this.writer.insert(
        DesiredRequestEntity,
        ownerId,
        {
          sn,
          version,
          asked: values,
          merged,
          status: 'pending',
          requestedAt: now,
          requestedBy: userId,
          requestedByRole: role,
          expiresAt,
        },
        manager,
      );
      await this.notifier.publish(sn, { version, values: merged, expiresAt: expiresAt.toISOString() });
      return { version, status: 'pending' as const, expiresAt: expiresAt.toISOString() };
    });
  }
}
