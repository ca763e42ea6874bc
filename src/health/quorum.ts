/**
 * Quorum of a virtual service with hysteresis (keepalived semantics): with quorum Q and hysteresis H,
 * the quorum is lost when the sum of live weights drops below Q - H and regained when it reaches Q + H.
 */
export class QuorumState {
  up: boolean | null = null;

  constructor(
    public quorum = 1,
    public hysteresis = 0,
  ) {}

  /** Feeds the current sum; returns true when the state changed (or was set for the first time). */
  update(sum: number): boolean {
    if (this.up === null) {
      this.up = sum >= this.quorum;
      return true;
    }
    if (this.up && sum < this.quorum - this.hysteresis) {
      this.up = false;
      return true;
    }
    if (!this.up && sum >= this.quorum + this.hysteresis) {
      this.up = true;
      return true;
    }
    return false;
  }
}
