// The device registry: devices, their credentials (secrets and claim codes,
// held hashed), factory import, rotation and revocation, and presence writes;
// pairing sessions, bindings, members and each person's device history.
export { DeviceEntity } from './device.entity.js';
export { CredentialHasher, generateClaimCode, generateDeviceSecret } from './credentials.js';
export { formatQrPayload, parseQrPayload, type QrPayload } from './qr.js';
export { CSV_COLUMNS, normaliseMac, parseDevicesCsv, RegisterDeviceDto, validateDeviceRows, type DeviceRow } from './device-rows.js';
export { DeviceRegistry, type IssuedDevice, type RegisterOptions, type RegistrationResult } from './device-registry.js';
export { CredentialChangeNotifier, MqttCredentialChangeNotifier, type MqttPublisher } from './credential-change.notifier.js';
export { CredentialCache, sqlCredentialLoader, type CredentialCacheOptions, type CredentialLoader } from './credential-cache.js';
export { PresenceRecorder, type SqlRunner } from './presence-recorder.js';
export { DeviceFirmwareRepository, type DeviceFirmware } from './device-firmware.repository.js';
export { DevicesModule } from './devices.module.js';
export { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
export { DeviceAccess, type DeviceRole } from './device-access.js';
export {
  PairingEntity,
  DeviceHistoryEntity,
  PAIRING_STATUS,
  HISTORY_EVENTS,
  type PairingStatus,
  type HistoryEvent,
} from './pairing.entity.js';
export {
  PairingService,
  type AlreadyYours,
  type ConfirmOutcome,
  type NetworkInfo,
  type StartedPairing,
  type StartPairingInput,
} from './pairing.service.js';
export { DeviceOwnership, type DeviceView, type MemberView } from './device-ownership.service.js';
export { DeviceHistory, type HistoryEntry } from './device-history.js';
export { AddMemberDto, NetworkInfoDto, StartPairingDto } from './pairing.dto.js';

import { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
import { DeviceEntity } from './device.entity.js';
import { DeviceHistoryEntity, PairingEntity } from './pairing.entity.js';
export const DEVICES_ENTITIES = [DeviceEntity, DeviceBindingEntity, DeviceMemberEntity, PairingEntity, DeviceHistoryEntity];
