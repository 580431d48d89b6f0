import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeviceRegistry, formatQrPayload, generateClaimCode, StartPairing } from '#libs/devices';
import { newDeviceRow } from '../factories/devices.js';
import { insertSignedUpUser, startDevicesMedium, type MediumWorld } from '../support/medium.js';

/**
 * StartPairing on the real schema: the claim-code lockout (five wrong claim
 * codes in an hour, then 429 whatever the code) counts and records under the
 * account's lock, so guesses sent all at once are counted one by one.
 */
describe('start pairing: the claim-code lockout', () => {
  let world: MediumWorld;
  let start: StartPairing;

  beforeAll(async () => {
    world = await startDevicesMedium();
    start = world.app.get(StartPairing);
  });

  afterAll(async () => {
    await world?.close();
  });

  const account = () => insertSignedUpUser(world);

  async function appliance(): Promise<{ sn: string; qr: string }> {
    const { issued } = await world.app.get(DeviceRegistry).register([{ ...newDeviceRow(), firmware: null }]);
    return { sn: issued[0].sn, qr: issued[0].qr };
  }

  const outcome = (attempt: Promise<unknown>) =>
    attempt.then(
      () => 'started',
      (error: { code?: string }) => error.code ?? String(error),
    );

  it('ten wrong claim codes at once: five are counted (403), the rest are locked out (429)', async () => {
    const guesser = await account();
    const { sn } = await appliance();
    const limit = world.config.pairing.claimFailuresPerHour;
    const now = new Date();
    const answers = await Promise.all(
      Array.from({ length: 2 * limit }, () => outcome(start.execute(guesser, { qr: formatQrPayload(sn, generateClaimCode()) }, now))),
    );
    expect(answers.filter((answer) => answer === 'FORBIDDEN')).toHaveLength(limit);
    expect(answers.filter((answer) => answer === 'TOO_MANY_REQUESTS')).toHaveLength(limit);
    const [{ count }] = await world.sql<{ count: number }>('SELECT count(*)::int AS count FROM pairing_claim_failures WHERE user_id = $1', [
      guesser,
    ]);
    expect(count).toBe(limit);
  });

  it('locked out, the right label is refused too; another account and the same one an hour later pair', async () => {
    const guesser = await account();
    const other = await account();
    const { sn, qr } = await appliance();
    const now = new Date();
    for (let attempt = 0; attempt < world.config.pairing.claimFailuresPerHour; attempt += 1) {
      expect(await outcome(start.execute(guesser, { qr: formatQrPayload(sn, generateClaimCode()) }, now))).toBe('FORBIDDEN');
    }
    expect(await outcome(start.execute(guesser, { qr }, now))).toBe('TOO_MANY_REQUESTS');
    // A typed SN carries no claim code: the lockout is about guessing codes.
    expect(await outcome(start.execute(guesser, { sn }, now))).toBe('started');
    expect(await outcome(start.execute(other, { qr }, now))).toBe('started');
    expect(await outcome(start.execute(guesser, { qr }, new Date(now.getTime() + 3600_001)))).toBe('started');
  });
});
