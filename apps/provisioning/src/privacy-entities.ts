import { DEVICES_ENTITIES } from '#libs/devices';
import { FAULTS_ENTITIES } from '#libs/faults';
import { FIRMWARE_ENTITIES } from '#libs/firmware';
import { IDENTITY_ENTITIES } from '#libs/identity';

/**
 * Every entity provisioning maps. Importing an entity is what puts its
 * @PersonalData tags in this process's registry, and provisioning serves the
 * rights (withdrawal, export, DELETE /v1/me), so a context whose tables hold
 * personal data adds its entity list HERE, even when another app writes them.
 * The privacy CLIs (datamap, retention) read the same list.
 */
export const PROVISIONING_ENTITIES = [...IDENTITY_ENTITIES, ...DEVICES_ENTITIES, ...FAULTS_ENTITIES, ...FIRMWARE_ENTITIES];
