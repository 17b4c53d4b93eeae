/** One API request as the node received it, for tests to inspect. */
export interface ReceivedRequest {
  readonly at: number;
  readonly call: string;
  readonly method: string;
  /** Decoded parameters (query, then form body), checksum included. */
  readonly params: Readonly<Record<string, string>>;
  readonly rawQuery: string;
  readonly contentType?: string;
  readonly body?: string;
}

/** The last `capacity` requests, oldest first, without shifting an array on every request. */
export class RequestLog {
  private readonly entries: ReceivedRequest[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(request: ReceivedRequest): void {
    if (this.capacity <= 0) return;
    if (this.entries.length < this.capacity) this.entries.push(request);
    else this.entries[this.next] = request;
    this.next = (this.next + 1) % this.capacity;
  }

  snapshot(): ReceivedRequest[] {
    if (this.entries.length < this.capacity) return [...this.entries];
    return [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }
}
