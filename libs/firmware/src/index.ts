// Firmware updates: signed images and their storage, staged campaigns, one job
// per device, delivery over MQTT with per-job download URLs, and the settlement
// of each job by what the device reports.
export * from './campaign-rules.js';
export { compareVersions, parseVersion, type VersionParts } from './firmware-version.js';
export { FirmwareImageEntity } from './firmware-image.entity.js';
export { CampaignEntity } from './campaign.entity.js';
export { JobEntity } from './job.entity.js';
export { CampaignRepository } from './campaign.repository.js';
export { FirmwareImageRepository } from './firmware-image.repository.js';
export { JobRepository, type NewJob } from './job.repository.js';
export { FirmwareModule, type FirmwareModuleOptions } from './firmware.module.js';
export { FirmwareStorage } from './firmware-storage.js';
export { decodeBase64 } from './signature-verifier.js';
export { DownloadUrls, MqttOtaJobNotifier, OtaJobNotifier, type OtaJobMessage, type RetainedPublisher } from './ota-job.notifier.js';
export { UploadFirmware, type ImageSource, type UploadFirmwareInput } from './upload-firmware.use-case.js';
export { ListFirmware } from './list-firmware.use-case.js';
export { CreateCampaign, type CreateCampaignInput, type CreatedCampaign } from './create-campaign.use-case.js';
export { AdvanceCampaign, type AdvanceOptions } from './advance-campaign.use-case.js';
export { PauseCampaign } from './pause-campaign.use-case.js';
export { ResumeCampaign } from './resume-campaign.use-case.js';
export { CancelCampaign } from './cancel-campaign.use-case.js';
export { FindCampaigns, type CampaignDetails } from './find-campaigns.use-case.js';
export { RecordProgress, type ProgressOutcome } from './record-progress.use-case.js';
export { SettleOnStatus, type StatusOutcome } from './settle-on-status.use-case.js';
export { TimeOutJobs, REDELIVER_AFTER_MS, type SweepResult } from './time-out-jobs.use-case.js';
export { OpenDownload, type DownloadRequest, type OpenedDownload } from './open-download.use-case.js';
export { CreateCampaignDto, ListCampaignsQuery, ListFirmwareQuery, ListJobsQuery, UploadFirmwareQuery } from './dto.js';
export { toCampaignView, toFirmwareView, toJobView, type CampaignView, type FirmwareView, type JobView } from './views.js';

import { CampaignEntity } from './campaign.entity.js';
import { FirmwareImageEntity } from './firmware-image.entity.js';
import { JobEntity } from './job.entity.js';
export const FIRMWARE_ENTITIES = [FirmwareImageEntity, CampaignEntity, JobEntity];
