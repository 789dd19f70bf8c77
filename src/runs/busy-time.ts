/**
 * The time a run's rates are over, one definition for the run summary and the report:
 * the union of the intervals during which an image this run worked out was in the
 * pipeline ([finished − latency_ms, finished]). Time when nothing was in flight (the gap
 * between an interrupted run and its resume, start-up before the first image, the wait for
 * a results file's last line) is not counted, so a report over several runs' records gives
 * the same images/hour as each run did.
 *
 * Memory: one interval per stretch of uninterrupted work; records arrive roughly in the
 * order they finish, so each is merged at the end of the list in constant time.
 */
export class BusyTime {
  /** Disjoint intervals [start, end] in ms, in order. */
  private readonly intervals: Array<[number, number]> = [];

  /** Adds an image's stay in the pipeline, [start, end] in ms on any one clock. */
  add(start: number, end: number): void {
    if (!(end > start)) return;
    let s = start;
    let e = end;
    let i = this.intervals.length;
    // Intervals after this one stay; overlapping ones are merged into it.
    while (i > 0 && (this.intervals[i - 1]?.[0] ?? 0) > e) i--;
    let j = i;
    while (j > 0) {
      const [a, b] = this.intervals[j - 1]!;
      if (b < s) break;
      s = Math.min(s, a);
      e = Math.max(e, b);
      j--;
    }
    this.intervals.splice(j, i - j, [s, e]);
  }

  /** Seconds covered. */
  seconds(): number {
    let ms = 0;
    for (const [start, end] of this.intervals) ms += end - start;
    return ms / 1000;
  }
}
