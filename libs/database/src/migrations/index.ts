import { Identity1764400000000 } from './1764400000000-identity.js';

/** Every migration, in order. Add new ones at the end. */
export const MIGRATIONS = [Identity1764400000000];
