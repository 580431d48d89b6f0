// The device registry: devices, their credentials (secrets and claim codes,
// held hashed), factory import, rotation and revocation, and presence writes;
// pairing sessions, bindings, members and each person's device history.
export { DeviceEntity } from './device.entity.js';
export { CredentialHasher, generateClaimCode, generateDeviceSecret } from './credentials.js';
export { formatQrPayload, parseQrPayload, type QrPayload } from './qr.js';
export { CSV_COLUMNS, normaliseMac, parseDevicesCsv, RegisterDeviceDto, validateDeviceRows, type DeviceRow } from './device-rows.js';
export { DeviceRegistry, type IssuedDevice, type RegisterOptions, type RegistrationResult } from './device-registry.js';
export { CredentialChangeNotifier, MqttCredentialChangeNotifier, type MqttPublisher } from './credential-change.notifier.js';
export { CredentialCache, type CredentialCacheOptions } from './credential-cache.js';
export { sqlCredentialLoader, type CredentialLoader, type SqlRunner, type SqlSource } from './broker-devices.repository.js';
export { PresenceRecorder } from './presence-recorder.js';
export {
  DeviceAccessModule,
  DeviceControlModule,
  DesiredStateNotifierModule,
  DevicesModule,
  DevicesPrivacyModule,
  DeviceStateModule,
} from './devices.module.js';
export { DeviceFirmwareRepository, type DeviceFirmware } from './device-firmware.repository.js';
export { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
export { DeviceAccess, type DeviceFacts, type DeviceRole } from './device-access.js';
export {
  PairingEntity,
  DeviceHistoryEntity,
  PAIRING_STATUS,
  HISTORY_EVENTS,
  type PairingStatus,
  type HistoryEvent,
} from './pairing.entity.js';
export {
  StartPairing,
  type AlreadyYours,
  type NetworkInfo,
  type StartedPairing,
  type StartPairingInput,
} from './start-pairing.use-case.js';
export { ConfirmPairing, type ConfirmOutcome } from './confirm-pairing.use-case.js';
export { ReadPairingStatus } from './read-pairing-status.use-case.js';
export { ClaimCodeLockout } from './claim-code-lockout.js';
export { DeviceOwnership, toDeviceView, type DeviceView, type InvitationView, type MemberView } from './device-ownership.service.js';
export { DeviceHistory, type HistoryEntry } from './device-history.js';
export { AddMemberDto, NetworkInfoDto, StartPairingDto } from './pairing.dto.js';
export {
  checkPointValue,
  MODEL_LIMITS,
  POINT_ID_PATTERN,
  POINT_TYPES,
  pointOf,
  readModelDefinition,
  type ModelDefinition,
  type PointDefinition,
  type PointType,
  type PointValue,
  type PointValueProblem,
} from './appliance-model.js';
export { ApplianceModelEntity } from './appliance-model.entity.js';
export { ModelCatalog, MODEL_CACHE_MS } from './model-catalog.js';
export { DefineModel, ReadModel } from './define-model.use-case.js';
export { DefineModelDto, ModelDefinitionView, PointDefinitionDto, toModelView } from './model.dto.js';
export { ReportedPointEntity } from './reported-point.entity.js';
export { ReportedState, toReportedView, type ReportedValues, type ReportedView } from './reported-state.js';
export {
  DESIRED_STATUSES,
  DESIRED_TTL_SECONDS,
  judgeDesiredValues,
  judgeReportedValues,
  mergeDesired,
  readDesiredRequest,
  REPORT_IGNORE_REASONS,
  settlementOf,
  type DesiredStatus,
  type DesiredValues,
  type ReportIgnoreReason,
} from './desired-state.js';
export { DesiredRequestEntity } from './desired-request.entity.js';
export { DesiredStateNotifier, MqttDesiredStateNotifier, type RetainedStatePublisher } from './desired-state.notifier.js';
export { ReadDeviceState, ReadStateHistory, STATE_HISTORY_LIMIT } from './read-device-state.use-case.js';
export { SetDesiredState } from './set-desired-state.use-case.js';
export { ReceiveStateReport, type StateReportReceipt } from './receive-state-report.use-case.js';
export { DesiredStateSweep, ExpireDesiredState } from './expire-desired-state.use-case.js';
export { StateMetrics } from './state-metrics.js';
export {
  DesiredAcceptedView,
  DesiredView,
  DeviceStateView,
  ReportedPointView,
  RequesterView,
  SetDesiredStateDto,
  StateHistoryEntryView,
} from './state.dto.js';

import { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
import { DeviceEntity } from './device.entity.js';
import { DeviceHistoryEntity, PairingEntity } from './pairing.entity.js';
import { ApplianceModelEntity } from './appliance-model.entity.js';
import { ReportedPointEntity } from './reported-point.entity.js';
import { DesiredRequestEntity } from './desired-request.entity.js';
import { DeviceInvitationEntity } from './device-invitation.entity.js';
export const DEVICES_ENTITIES = [
  DeviceEntity,
  DeviceBindingEntity,
  DeviceMemberEntity,
  PairingEntity,
  DeviceHistoryEntity,
  ApplianceModelEntity,
  ReportedPointEntity,
  DesiredRequestEntity,
  DeviceInvitationEntity,
];
