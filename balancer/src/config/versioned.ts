/** One value of a `Versioned` and how many pieces of work still hold it. */
interface Held<T> {
  readonly value: T;
  users: number;
  retired: boolean;
}

/**
 * A value rebuilt whole when the config changes (a request context, a poller's node clients). Each piece of work
 * takes the value current when it starts and keeps it to the end, whatever is swapped in meanwhile; a replaced
 * value is released (its connections closed) once the last work holding it has finished.
 */
export class Versioned<T> {
  private held: Held<T>;
  private readonly unreleased = new Set<Held<T>>();

  constructor(
    value: T,
    private readonly release: (value: T) => Promise<void>,
  ) {
    this.held = this.hold(value);
  }

  /** The value work starting now would get (for reads that outlive nothing). */
  get current(): T {
    return this.held.value;
  }

  /** Runs `work` on the current value; that value is not released before `work` settles. */
  async use<R>(work: (value: T) => Promise<R> | R): Promise<R> {
    const held = this.held;
    held.users += 1;
    try {
      return await work(held.value);
    } finally {
      held.users -= 1;
      if (held.retired && held.users === 0) this.releaseHeld(held);
    }
  }

  /** Work started from now on gets `value`; work under way finishes on what it has. */
  replace(value: T): void {
    const previous = this.held;
    this.held = this.hold(value);
    previous.retired = true;
    if (previous.users === 0) this.releaseHeld(previous);
  }

  /** At shutdown, after the work has been given its grace: releases every value still held. */
  async close(): Promise<void> {
    await Promise.all([...this.unreleased].map((held) => this.releaseHeld(held)));
  }

  private hold(value: T): Held<T> {
    const held = { value, users: 0, retired: false };
    this.unreleased.add(held);
    return held;
  }

  private async releaseHeld(held: Held<T>): Promise<void> {
    if (!this.unreleased.delete(held)) return;
    // Releasing is closing idle connections: nothing a caller could act on if it failed.
    await this.release(held.value).catch(() => undefined);
  }
}
