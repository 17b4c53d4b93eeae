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
 * Each run's figure as a ratio to the baseline's median of the same benchmark run: the baseline's own run-to-run
 * noise is reported in its own row, not multiplied into every ratio.
 */
export function ratioSpread(values: readonly number[], baseline: Spread): Spread {
  if (baseline.median <= 0) throw new Error(`baseline median must be positive, got ${baseline.median}`);
  return spreadOf(values.map((value) => value / baseline.median));
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
