// The byte budget of the webhook port (contract §3 item 2, §12.0 item 13): request bodies held in memory at
// once, across every request, are at most gateway.maxBytesInFlight. Bytes are reserved before they are
// buffered (all of a declared Content-Length up front, a chunked body as its chunks arrive) and given back
// when the request is answered, so a flood of large bodies, signed or not, gets 503 instead of an OOM kill.
// Only the raw bytes are counted: what parsing adds per byte is the amplification factor that the chart's
// memory limit is sized with (docs/operations.md, "Memory").

export class ByteBudget {
  private held = 0;

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error('the byte budget must be at least 1 byte');
  }

  /** Bytes reserved now. */
  get inFlight(): number {
    return this.held;
  }

  /** Reserves `bytes`; false (nothing reserved) when that would take the total past the budget. */
  reserve(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
