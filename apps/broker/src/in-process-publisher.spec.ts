import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Aedes } from 'aedes';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/mqtt-contract';
import { createLogger } from '#libs/platform';
import { BrokerMetrics } from './broker-metrics.js';
import { inProcessPublisher } from './in-process-publisher.js';
import { ServiceAccountDirectory } from './service-accounts.js';

/**
 * Under `npm start` the services publish through the broker of their process:
 * the account is checked as at CONNECT, and every publish by the rules an
 * MQTT publish meets (payload limit, the account's grants), before the node
 * routes it to its subscribers.
 */
describe('inProcessPublisher', () => {
  const config = loadConfig({ env: { NODE_ENV: 'test' } });
  const faultFeedback = config.mqtt.serviceAccounts.faultFeedback;
  const metrics = new BrokerMetrics({ connectedClients: () => 0, cacheEntries: () => 0, cacheHits: () => 0, cacheMisses: () => 0 });
  let node: Aedes;
  let publisher: ReturnType<typeof inProcessPublisher>;

  beforeAll(async () => {
    node = await Aedes.createBroker();
    publisher = inProcessPublisher(node, {
      maxPayloadBytes: 1024,
      accounts: new ServiceAccountDirectory(config),
      metrics,
      log: createLogger('silent'),
    });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => node.close(() => resolve()));
  });

  const droppedBy = async (reason: string) =>
    (await metrics.dropped.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;

  it('refuses an account whose password does not match', async () => {
    await expect(publisher.openLink({ ...faultFeedback, password: 'not-the-password-0' }, `${faultFeedback.username}-x`)).rejects.toThrow(
      `the broker refused the service account ${faultFeedback.username}`,
    );
  });

  it("routes what the account may publish to the topic's subscribers, and refuses the rest by the ACL and the payload limit", async () => {
    const publish = await publisher.openLink(faultFeedback, `${faultFeedback.username}-1`);
    const received: Array<{ topic: string; payload: string; qos: number }> = [];
    await new Promise<void>((resolve) =>
      node.subscribe(
        'devices/#',
        (packet, done) => {
          received.push({ topic: packet.topic, payload: String(packet.payload), qos: packet.qos });
          done();
        },
        resolve,
      ),
    );

    await publish({ topic: topics.faultsAck('SN-IN-PROCESS'), payload: Buffer.from('{"reportId":"r1"}'), qos: 0, retain: false });
    expect(received).toEqual([{ topic: topics.faultsAck('SN-IN-PROCESS'), payload: '{"reportId":"r1"}', qos: 0 }]);

    const notGrantedBefore = await droppedBy('not_granted');
    await expect(
      publish({ topic: topics.pairingResult('SN-IN-PROCESS'), payload: Buffer.from('{}'), qos: 1, retain: false }),
    ).rejects.toThrow('publish refused: not_granted');
    expect(await droppedBy('not_granted')).toBe(notGrantedBefore + 1);

    const tooLargeBefore = await droppedBy('too_large');
    await expect(
      publish({ topic: topics.faultsAck('SN-IN-PROCESS'), payload: Buffer.alloc(2048, 'x'), qos: 0, retain: false }),
    ).rejects.toThrow('payload too large');
    expect(await droppedBy('too_large')).toBe(tooLargeBefore + 1);
    expect(received).toHaveLength(1);
  });
});
