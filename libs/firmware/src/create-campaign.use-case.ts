import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeviceFirmwareRepository } from '#libs/devices';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import {
  assignSteps,
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_JOB_TIMEOUT_SECONDS,
  DEFAULT_STEPS,
  selectTargets,
  shuffled,
  stepsProblem,
  type SkippedTargets,
} from './campaign-rules.js';
import { CampaignRepository } from './campaign.repository.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository } from './job.repository.js';

export interface CreateCampaignInput {
  firmwareId: string;
  fromVersions?: string[];
  sns?: string[];
  steps?: number[];
  failureThreshold?: number;
  jobTimeoutSeconds?: number;
  allowDowngrade?: boolean;
  createdBy: string | null;
}

export interface CreatedCampaign {
  id: string;
  status: 'running';
  targeted: number;
  /** Devices of the model that got no job, by reason. */
  skipped: SkippedTargets & { inOtherCampaign: number; notFound: number };
}

/**
 * Targets the image's model (narrowed by fromVersions and sns), gives each
 * target a step at random, and starts the first step, in a handful of
 * statements whatever the fleet's size: one read of the devices, one of the
 * devices other campaigns hold, one INSERT of every job. The first step's
 * messages go out after the commit, without holding up the answer.
 */
@Injectable()
export class CreateCampaign {
  private readonly logger = new Logger('CreateCampaign');

  constructor(
    private readonly dataSource: DataSource,
    private readonly images: FirmwareImageRepository,
    private readonly campaigns: CampaignRepository,
    private readonly jobs: JobRepository,
    private readonly devices: DeviceFirmwareRepository,
    private readonly delivery: JobDelivery,
    private readonly clock: Clock,
  ) {}

  async execute(input: CreateCampaignInput): Promise<CreatedCampaign> {
    const steps = input.steps ?? DEFAULT_STEPS;
    const problem = stepsProblem(steps);
    if (problem) throw new DomainError('VALIDATION_FAILED', problem);
    const image = await this.images.findById(input.firmwareId);
    if (!image) throw new DomainError('NOT_FOUND', 'No firmware image with this id');
    const allowDowngrade = input.allowDowngrade ?? false;

    const sns = input.sns ? [...new Set(input.sns)] : undefined;
    const candidates = await this.devices.devicesOfModel(image.model, sns);
    const { targets, skipped } = selectTargets(candidates, { version: image.version, fromVersions: input.fromVersions, allowDowngrade });
    const held = targets.length > 0 ? await this.jobs.heldAmong(targets.map((target) => target.sn)) : new Set<string>();
    const free = shuffled(targets.filter((target) => !held.has(target.sn)));
    const report = { ...skipped, inOtherCampaign: held.size, notFound: sns ? sns.length - candidates.length : 0 };
    if (free.length === 0) throw new DomainError('CONFLICT', nobodyToUpdate(image.model, image.version, report, allowDowngrade));

    const id = randomUUID();
    const now = this.clock.now();
    const jobTimeoutSeconds = input.jobTimeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS;
    const deadline = new Date(now.getTime() + jobTimeoutSeconds * 1000);
    const stepOf = assignSteps(free.length, steps);
    const inserted = await this.dataSource.transaction(async (manager) => {
      await this.campaigns.insert(
        {
          id,
          firmwareId: image.id,
          steps,
          targeted: free.length,
          failureThreshold: input.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
          jobTimeoutSeconds,
          allowDowngrade,
          fromVersions: input.fromVersions ?? null,
          createdBy: input.createdBy,
        },
        manager,
      );
      const rows = free.map((target, index) => ({
        id: randomUUID(),
        sn: target.sn,
        step: stepOf[index],
        fromVersion: target.firmware,
        notified: stepOf[index] === 1,
      }));
      const created = await this.jobs.insertMany(id, rows, now, deadline, manager);
      // Another campaign took some of them between our read and this INSERT: the index left them out.
      if (created.length === 0) throw new DomainError('CONFLICT', 'Every targeted device was just taken by another campaign');
      if (created.length < rows.length) await this.campaigns.setTargeted(id, created.length, manager);
      return created;
    });
    // The answer does not wait for the messages: a message that never reaches the broker is sent again by the sweep.
    void this.delivery
      .deliver(
        inserted.filter((job) => job.notified),
        image,
      )
      .catch((error: unknown) => this.logger.warn(`first step's job messages not all sent, the sweep retries: ${String(error)}`));
    const lost = free.length - inserted.length;
    return {
      id,
      status: 'running',
      targeted: inserted.length,
      skipped: { ...report, inOtherCampaign: report.inOtherCampaign + lost },
    };
  }
}

function nobodyToUpdate(model: string, version: string, skipped: CreatedCampaign['skipped'], allowDowngrade: boolean): string {
  const reasons = [
    skipped.alreadyOnVersion && `${skipped.alreadyOnVersion} already on ${version}`,
    skipped.newerVersion && `${skipped.newerVersion} on a newer version (a downgrade needs allowDowngrade)`,
    skipped.unknownVersion && !allowDowngrade && `${skipped.unknownVersion} on an unknown version (targeted only with allowDowngrade)`,
    skipped.notInFromVersions && `${skipped.notInFromVersions} not on fromVersions`,
    skipped.inOtherCampaign && `${skipped.inOtherCampaign} in another campaign that is not over`,
    skipped.notFound && `${skipped.notFound} of the sns not registered as ${model}`,
  ].filter(Boolean);
  return `No device to update: ${reasons.length ? reasons.join(', ') : `no registered ${model} device`}`;
}
