import type { CampaignStatus, JobCounts, JobState, PauseReason } from './campaign-rules.js';
import type { FirmwareImageEntity } from './firmware-image.entity.js';
import type { CampaignDetails } from './find-campaigns.use-case.js';
import type { JobEntity } from './job.entity.js';

// What leaves the process, decided here: never an entity.

export interface FirmwareView {
  id: string;
  model: string;
  version: string;
  size: number;
  sha256: string;
  keyId: string;
  createdAt: string;
}

export function toFirmwareView(image: FirmwareImageEntity): FirmwareView {
  return {
    id: image.id,
    model: image.model,
    version: image.version,
    size: image.size,
    sha256: image.sha256,
    keyId: image.keyId,
    createdAt: image.createdAt.toISOString(),
  };
}

export interface CampaignView {
  id: string;
  firmwareId: string;
  model: string | null;
  version: string | null;
  status: CampaignStatus;
  pauseReason: PauseReason | null;
  step: number;
  steps: number[];
  targeted: number;
  counts: JobCounts;
  failureThreshold: number;
  jobTimeoutSeconds: number;
  allowDowngrade: boolean;
  fromVersions: string[] | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export function toCampaignView({ campaign, image, counts }: CampaignDetails): CampaignView {
  return {
    id: campaign.id,
    firmwareId: campaign.firmwareId,
    model: image?.model ?? null,
    version: image?.version ?? null,
    status: campaign.status,
    pauseReason: campaign.pauseReason,
    step: campaign.step,
    steps: campaign.steps,
    targeted: campaign.targeted,
    counts: { ...counts },
    failureThreshold: campaign.failureThreshold,
    jobTimeoutSeconds: campaign.jobTimeoutSeconds,
    allowDowngrade: campaign.allowDowngrade,
    fromVersions: campaign.fromVersions,
    createdAt: campaign.createdAt.toISOString(),
    updatedAt: campaign.updatedAt.toISOString(),
    endedAt: campaign.endedAt?.toISOString() ?? null,
  };
}

export interface JobView {
  jobId: string;
  sn: string;
  step: number;
  state: JobState;
  progress: number | null;
  reason: string | null;
  fromVersion: string | null;
  reportedVersion: string | null;
  notifiedAt: string | null;
  deadline: string | null;
  endedAt: string | null;
  updatedAt: string;
}

export function toJobView(job: JobEntity): JobView {
  return {
    jobId: job.id,
    sn: job.sn,
    step: job.step,
    state: job.state,
    progress: job.progress,
    reason: job.reason,
    fromVersion: job.fromVersion,
    reportedVersion: job.reportedVersion,
    notifiedAt: job.notifiedAt?.toISOString() ?? null,
    deadline: job.deadline?.toISOString() ?? null,
    endedAt: job.endedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt.toISOString(),
  };
}
