/** The spread of one figure over repeated runs: what the report prints for every measurement. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly runs: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("a spread needs at least one value");
  if (values.some((value) => !Number.isFinite(value))) throw new Error(`not a finite figure in [${values.join(", ")}]`);
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/**
 * Each run's figure as a ratio to the baseline run paired with it (measured just before it, same connections and
 * length): whatever else the shared machine is doing at that moment weighs on both alike.
 */
export function pairedRatioSpread(values: readonly number[], baselineRuns: readonly number[]): Spread {
  if (baselineRuns.length !== values.length) throw new Error(`${values.length} runs but ${baselineRuns.length} baseline runs paired with them`);
  if (baselineRuns.some((run) => !(run > 0))) throw new Error(`a baseline run served nothing: [${baselineRuns.join(", ")}]`);
  return spreadOf(values.map((value, i) => value / baselineRuns[i]!));
}

/** A benchmark goal: the median must reach at least, or stay at most, this value. */
export type Target =
  | { readonly kind: "atLeast"; readonly value: number; readonly of: "figure" | "ratio" }
  | { readonly kind: "atMost"; readonly value: number; readonly of: "figure" | "ratio" };

export function meetsTarget(target: Target, figure: Spread, ratio: Spread | undefined): boolean {
  const subject = target.of === "ratio" ? ratio : figure;
  if (subject === undefined) throw new Error("a ratio target needs a ratio to the baseline");
  return target.kind === "atLeast" ? subject.median >= target.value : subject.median <= target.value;
}

/** The nearest-rank percentile `q` (0 < q ≤ 100) of `values`: a value that was measured, never an interpolation. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("a percentile needs at least one value");
  if (!(q > 0 && q <= 100)) throw new Error(`a percentile is over 0 and at most 100, got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((q / 100) * sorted.length) - 1]!;
}
