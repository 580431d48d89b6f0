// The device registry: devices, their credentials (secrets and claim codes,
// held hashed), factory import, rotation and revocation, and presence writes.
export { DeviceEntity } from './device.entity.js';
export { CredentialHasher, generateClaimCode, generateDeviceSecret } from './credentials.js';
export { formatQrPayload, parseQrPayload, type QrPayload } from './qr.js';
export { CSV_COLUMNS, normaliseMac, parseDevicesCsv, RegisterDeviceDto, validateDeviceRows, type DeviceRow } from './device-rows.js';
export { DeviceRegistry, type IssuedDevice, type RegisterOptions, type RegistrationResult } from './device-registry.js';
export { CredentialChangeNotifier, MqttCredentialChangeNotifier, type MqttPublisher } from './credential-change.notifier.js';
export { CredentialCache, sqlCredentialLoader, type CredentialCacheOptions, type CredentialLoader } from './credential-cache.js';
export { PresenceRecorder, type SqlRunner } from './presence-recorder.js';
export { DevicesModule } from './devices.module.js';
export { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
export { DeviceAccess, type DeviceRole } from './device-access.js';

import { DeviceBindingEntity, DeviceMemberEntity } from './binding.entity.js';
import { DeviceEntity } from './device.entity.js';
export const DEVICES_ENTITIES = [DeviceEntity, DeviceBindingEntity, DeviceMemberEntity];
