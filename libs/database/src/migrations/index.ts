import { Identity1764400000000 } from './1764400000000-identity.js';
import { Privacy1764400100000 } from './1764400100000-privacy.js';
import { Devices1764400200000 } from './1764400200000-devices.js';
import { Bindings1764400300000 } from './1764400300000-bindings.js';
import { Pairing1764400400000 } from './1764400400000-pairing.js';
import { Faults1764400500000 } from './1764400500000-faults.js';
import { ApplianceModels1764401300000 } from './1764401300000-appliance-models.js';
import { Telemetry1764401400000 } from './1764401400000-telemetry.js';
import { Firmware1764401500000 } from './1764401500000-firmware.js';
import { DesiredState1764401350000 } from './1764401350000-desired-state.js';
import { DeviceInvitations1764400800000 } from './1764400800000-device-invitations.js';

/** Every migration, in order. Add new ones at the end. */
export const MIGRATIONS = [
  Identity1764400000000,
  Privacy1764400100000,
  Devices1764400200000,
  Bindings1764400300000,
  Pairing1764400400000,
  Faults1764400500000,
  ApplianceModels1764401300000,
  Telemetry1764401400000,
  Firmware1764401500000,
  DesiredState1764401350000,
  DeviceInvitations1764400800000,
];
