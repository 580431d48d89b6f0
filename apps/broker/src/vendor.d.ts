// These packages ship no type declarations; the broker uses them only through Aedes' `mq` and `persistence` options.
declare module 'mqemitter-redis' {
  interface MQEmitterRedisOptions {
    connectionString?: string;
    [option: string]: unknown;
  }
  function mqemitterRedis(options?: MQEmitterRedisOptions): {
    close(callback: () => void): void;
    current: number;
    state: import('node:events').EventEmitter;
  };
  export default mqemitterRedis;
}

declare module 'aedes-persistence-redis/asyncPersistence.js' {
  export default class AsyncRedisPersistence {
    constructor(options: { conn?: unknown; [option: string]: unknown });
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> | NodeJS.ReadableStream;
  }
}
