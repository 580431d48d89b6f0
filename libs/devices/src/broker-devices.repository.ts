/**
 * The broker's reads and writes of devices, on its own connection (the broker
 * runs without Nest's DI): credential hashes for authentication, and presence.
 * Pass the broker's DataSource, or any function that runs one SQL statement.
 */
export type SqlRunner = (sql: string, params: unknown[]) => Promise<unknown>;
export type SqlSource = SqlRunner | { query(sql: string, params?: unknown[]): Promise<unknown> };

export function runnerOf(source: SqlSource): SqlRunner {
  return typeof source === 'function' ? source : (sql, params) => source.query(sql, params);
}

/** Loads the stored secret hash of many SNs in one round trip; absent or revoked devices map to null. */
export type CredentialLoader = (sns: string[]) => Promise<Map<string, string | null>>;

/** The loader the broker's credential cache uses: one `= ANY($1)` query per batch. */
export function sqlCredentialLoader(source: SqlSource): CredentialLoader {
  const run = runnerOf(source);
  return async (sns) => {
    const rows = (await run(`SELECT sn, secret_hash FROM devices WHERE sn = ANY($1::varchar[])`, [sns])) as Array<{
      sn: string;
      secret_hash: string | null;
    }>;
    return new Map(rows.map((row) => [row.sn, row.secret_hash]));
  };
}

/**
 * Writes the presence of many devices in one `UPDATE ... FROM (VALUES ...)`.
 * A late write from another node never rolls the state back: the newer time wins.
 */
export async function writePresence(run: SqlRunner, batch: ReadonlyArray<readonly [string, { at: Date; online: boolean }]>): Promise<void> {
  const params: unknown[] = [];
  const values = batch.map(([sn, { at, online }], index) => {
    params.push(sn, at.toISOString(), online);
    return `($${index * 3 + 1}::varchar, $${index * 3 + 2}::timestamptz, $${index * 3 + 3}::boolean)`;
  });
  await run(
    `UPDATE devices AS d
       SET online = CASE WHEN d.last_seen_at IS NULL OR v.at >= d.last_seen_at THEN v.online ELSE d.online END,
           last_seen_at = GREATEST(COALESCE(d.last_seen_at, v.at), v.at)
      FROM (VALUES ${values.join(', ')}) AS v(sn, at, online)
     WHERE d.sn = v.sn`,
    params,
  );
}
