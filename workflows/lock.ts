import { condition } from '@temporalio/workflow';

/**
 * One transition at a time: a handler that awaits activities holds the lock from its validation
 * to its recorded result, so no other action or timer interleaves with it. Waiters go in order.
 */
export class Lock {
  private held = false;

  async run<T>(critical: () => Promise<T>): Promise<T> {
    while (this.held) await condition(() => !this.held);
    this.held = true;
    try {
      return await critical();
    } finally {
      this.held = false;
    }
  }
}
