import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { relocatedClusterHome } from '#libs/database';

/** Deletes a data folder `npm start` used, and the cluster it placed outside it when run as root (README, "As root"). */
export async function removeDataFolder(dataDir: string): Promise<void> {
  const home = await relocatedClusterHome(join(dataDir, 'pg'));
  if (home) await rm(home, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
}
