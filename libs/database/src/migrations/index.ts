import { Identity1764400000000 } from './1764400000000-identity.js';
import { Devices1764400200000 } from './1764400200000-devices.js';

/** Every migration, in order. Add new ones at the end. */
export const MIGRATIONS = [Identity1764400000000, Devices1764400200000];
