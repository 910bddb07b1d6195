// A replaying event stream: every event is kept, so a consumer that starts iterating late
// still sees the whole story (the ui may attach after the Jobs were created).

export class EventStream<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private waiters: (() => void)[] = [];

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  snapshot(): readonly T[] {
    return this.items;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let i = 0;
    for (;;) {
      while (i < this.items.length) yield this.items[i++] as T;
      if (this.closed) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}
