/** What every benchmark module exports and what it hands back to bench/run.ts. */

export interface BenchOutcome {
  /** The headline measurement, e.g. "23.4× faster" or "12 requests". */
  readonly measured: string;
  /** The target as stated in the issue, e.g. "≥ 20×". */
  readonly target: string;
  readonly pass: boolean;
  /** Raw numbers and notes, printed under the benchmark's heading. */
  readonly details: readonly string[];
}

export interface Benchmark {
  readonly name: string;
  /** One line: what is compared with what. */
  readonly description: string;
  run(log: (line: string) => void): Promise<BenchOutcome>;
}
