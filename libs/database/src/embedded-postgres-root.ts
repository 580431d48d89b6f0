import { execFile, spawnSync } from 'node:child_process';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as
 * the `postgres` user (created when missing). That user must reach the
 * binaries and the cluster, and a checkout in a folder only root may enter
 * (`/root/app`, a `mktemp -d` folder) hides both from it. Rather than opening
 * root's folders to it (search permission on /root would expose every file
 * there that is readable by others), what it cannot reach is placed where it can:
 *
 * - the binaries are hard-linked (copied across file systems) to
 *   `/var/cache/appliance-backend/postgresql-<version>`, root-owned and read-only to others;
 * - a new cluster goes to `/var/lib/appliance-backend/pg-<random>/cluster`,
 *   and `<dataDir>/pg/cluster` becomes a link to it, so everything that looks
 *   in the data folder (reuse, the running server's port) finds it there.
 *
 * Where something that cannot be worked around is missing, the error is one
 * line naming the cause and the fix.
 */
export const STAGED_BINARIES_DIR = '/var/cache/appliance-backend';
export const RELOCATED_CLUSTERS_DIR = '/var/lib/appliance-backend';
const SERVER_USER = 'postgres';

export interface ServerAccount {
  uid: number;
  gid: number;
}

/** Which binaries run which cluster, and as whom (undefined: as this process's user). */
export interface ServerLayout {
  binDir: string;
  clusterDir: string;
  account?: ServerAccount;
}

const run = promisify(execFile);

export async function serverLayout(dir: string, binaries: { nativeDir: string; version: string }): Promise<ServerLayout> {
  const inPlace = { binDir: join(binaries.nativeDir, 'bin'), clusterDir: join(dir, 'cluster') };
  if (process.getuid?.() !== 0) return inPlace;
  const account = await serverAccount();
  const binDir = canRun(account, join(inPlace.binDir, 'postgres')) ? inPlace.binDir : await stagedBinaries(binaries, account);
  return { account, binDir, clusterDir: await clusterDir(dir, account) };
}

async function serverAccount(): Promise<ServerAccount> {
  const found = await lookUp(SERVER_USER);
  if (found) return found;
  const common = ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin'];
  // --user-group fails when a group of that name exists already; then join it.
  await run('useradd', [...common, '--user-group', SERVER_USER])
    .catch(() => run('useradd', [...common, '--gid', SERVER_USER, SERVER_USER]))
    .catch(() => undefined);
  const created = await lookUp(SERVER_USER);
  if (created) return created;
  throw new Error(
    `PostgreSQL does not run as root and there is no "${SERVER_USER}" user to run it, nor could one be made; create one (useradd --system ${SERVER_USER}) or set DATABASE_URL`,
  );
}

async function lookUp(name: string): Promise<ServerAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** The binary runs as the account: every folder above it is open to it, and its libraries load. */
function canRun(account: ServerAccount, binary: string): boolean {
  return spawnSync(binary, ['-V'], { ...account, stdio: 'ignore' }).status === 0;
}

/** The account may enter the folder (search permission on it and on every folder above). */
function canEnter(account: ServerAccount, folder: string): boolean {
  return spawnSync('test', ['-x', folder], { ...account, stdio: 'ignore' }).status === 0;
}

async function stagedBinaries(binaries: { nativeDir: string; version: string }, account: ServerAccount): Promise<string> {
  const target = join(STAGED_BINARIES_DIR, `postgresql-${binaries.version}`);
  const existing = await stat(target).catch(() => undefined);
  if (existing && (existing.uid !== 0 || (existing.mode & 0o022) !== 0)) {
    throw new Error(`${target} is not root's own (owner or others may change it); remove it and start again`);
  }
  if (!existing) {
    try {
      await mkdir(STAGED_BINARIES_DIR, { recursive: true });
      await chmod(STAGED_BINARIES_DIR, 0o755);
      const staging = await mkdtemp(join(STAGED_BINARIES_DIR, '.staging-'));
      try {
        await linkTree(binaries.nativeDir, staging);
        await chmod(staging, 0o755);
        // Another process may have placed the same version meanwhile; either copy will do.
        await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST' && error.code !== 'ENOTEMPTY') throw error;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    } catch (error) {
      throw new Error(
        `user ${SERVER_USER} cannot reach ${binaries.nativeDir} (a folder above it is private) and the binaries could not be placed in ${target} (${errorCode(error)}); ` +
          'run from a folder that user may enter, or set DATABASE_URL',
        { cause: error },
      );
    }
  }
  const binDir = join(target, 'bin');
  if (!canRun(account, join(binDir, 'postgres'))) {
    throw new Error(
      `user ${SERVER_USER} cannot run ${join(binDir, 'postgres')}; give it search permission on ${STAGED_BINARIES_DIR}, or set DATABASE_URL`,
    );
  }
  return binDir;
}

/** Mirrors a folder with hard links (a copy where the file system refuses one), keeping symbolic links as links. */
async function linkTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(target, { mode: 0o755 });
      await chmod(target, 0o755);
      await linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else {
      await link(source, target).catch(() => copyFile(source, target));
    }
  }
}

async function clusterDir(dir: string, account: ServerAccount): Promise<string> {
  const inPlace = join(dir, 'cluster');
  const found = await lstat(inPlace).catch(() => undefined);
  if (found?.isSymbolicLink()) return resolve(dir, await readlink(inPlace));
  if (canEnter(account, dir)) return inPlace;
  if (found && (await stat(join(inPlace, 'PG_VERSION')).catch(() => undefined))) {
    throw new Error(
      `user ${SERVER_USER} can no longer reach the cluster in ${inPlace} (a folder above it is private); ` +
        'move the data folder (DATA_DIR) where that user may enter, or set DATABASE_URL',
    );
  }
  // What is there holds no cluster: an initialisation that did not get far.
  if (found) await rm(inPlace, { recursive: true, force: true });
  try {
    await mkdir(RELOCATED_CLUSTERS_DIR, { recursive: true });
    await chmod(RELOCATED_CLUSTERS_DIR, 0o755);
    // A fresh folder each time: one left by a data folder deleted since is never taken over.
    const home = await mkdtemp(join(RELOCATED_CLUSTERS_DIR, 'pg-'));
    await chmod(home, 0o755);
    await writeFile(join(home, 'data-folder'), `${await realpath(dir)}\n`);
    await symlink(join(home, 'cluster'), inPlace);
    return join(home, 'cluster');
  } catch (error) {
    throw new Error(
      `user ${SERVER_USER} cannot reach ${dir} (a folder above it is private) and no cluster could be made in ${RELOCATED_CLUSTERS_DIR} (${errorCode(error)}); ` +
        'set DATA_DIR to a folder that user may enter, or set DATABASE_URL',
      { cause: error },
    );
  }
}

/** The cluster's own folder outside the data folder, when it was placed there (see above); tests use it to clean up. */
export async function relocatedClusterHome(dir: string): Promise<string | undefined> {
  const inPlace = join(resolve(dir), 'cluster');
  const found = await lstat(inPlace).catch(() => undefined);
  return found?.isSymbolicLink() ? dirname(resolve(dirname(inPlace), await readlink(inPlace))) : undefined;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error instanceof Error ? error.message : error);
}
