import { connect as amqpConnect } from 'amqplib';
import { EventBusTopology } from '#libs/platform';

/** Deletes a suite's throw-away queue prefix from RabbitMQ: its partitions, dead letters and exchanges. */
export async function removeBusPrefix(url: string, queuePrefix: string, partitions: number): Promise<void> {
  const connection = await amqpConnect(url);
  try {
    await new EventBusTopology({ queuePrefix, partitions, deliveryLimit: 5 }).remove(await connection.createChannel());
  } finally {
    await connection.close();
  }
}
