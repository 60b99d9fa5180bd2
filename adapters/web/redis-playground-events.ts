import type { Redis } from '../../src/redis/connection.ts';
import type { EventFanOut } from './event-hub.ts';
import { PlaygroundKeys } from './redis-playground-keys.ts';

/**
 * The playground's page events through Redis pub/sub, so a page whose stream one replica holds
 * hears the progress and answer of a turn another replica runs. Pub/sub keeps no history: a
 * page that reconnects refetches its open thread from the shared store (the page does that
 * after every reconnect), so an event missed while a stream was down is not lost for good.
 */
export class RedisPlaygroundEvents implements EventFanOut {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;

  /** `subscriber` is a connection of its own: one that subscribes can send nothing else. */
  constructor(publisher: Redis, subscriber: Redis, prefix: string) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.channel = new PlaygroundKeys(prefix).events;
  }

  async publish(data: string): Promise<void> {
    await this.publisher.publish(this.channel, data);
  }

  /** Resolves once subscribed, so every event published after that is delivered. */
  async subscribe(deliver: (data: string) => void): Promise<void> {
    this.subscriber.on('message', (channel: string, data: string) => {
      if (channel === this.channel) deliver(data);
    });
    await this.subscriber.subscribe(this.channel);
  }
}
