import { meetsTarget, pairedRatioSpread, spreadOf, type Spread, type Target } from "./stats.js";

export type Unit = "req/s" | "ms" | "s" | "MB" | "commands" | "nodes" | "creates" | "answers" | "meetings";

/** One measured figure: the raw value of every repeated run, and what it is judged against. */
export interface Figure {
  /** What was measured, e.g. "join throughput"; figures of the same name at several fleet sizes form the sweep. */
  readonly name: string;
  /** Simulated nodes in the balancer's fleet when it was measured; none for the baseline. */
  readonly fleetSize?: number;
  readonly unit: Unit;
  readonly values: readonly number[];
  /** The bare Koa baseline run measured just before each of `values`: throughput figures are also reported as a ratio to it. */
  readonly baselineRuns?: readonly number[];
  readonly target?: Target;
  /** How it was measured (load shape, state), one short phrase. */
  readonly how?: string;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
}

export interface BenchReport {
  readonly date: Date;
  readonly mode: "full" | "quick";
  readonly machine: Machine;
  /** name -> version, e.g. node, redis-server, koa, ioredis, autocannon. */
  readonly versions: Readonly<Record<string, string>>;
  /** The load settings of this run, one line. */
  readonly settings: string;
  readonly figures: readonly Figure[];
}

const decimalsByUnit: Readonly<Record<Unit, number>> = { "req/s": 0, ms: 2, s: 2, MB: 1, commands: 2, nodes: 0, creates: 0, answers: 0, meetings: 0 };

export function formatNumber(value: number, decimals: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function formatSpread(spread: Spread, decimals: number): string {
  const [min, median, max] = [spread.min, spread.median, spread.max].map((value) => formatNumber(value, decimals));
  return `${min} / **${median}** / ${max}`;
}

function ratioOf(figure: Figure): Spread | undefined {
  return figure.baselineRuns === undefined ? undefined : pairedRatioSpread(figure.values, figure.baselineRuns);
}

export function describeTarget(target: Target, unit: Unit): string {
  const relation = target.kind === "atLeast" ? "≥" : "≤";
  return target.of === "ratio"
    ? `${relation} ${formatNumber(target.value, 2)} × baseline`
    : `${relation} ${formatNumber(target.value, decimalsByUnit[unit])} ${unit}`;
}

function verdictOf(figure: Figure): string {
  if (figure.target === undefined) return "";
  return meetsTarget(figure.target, spreadOf(figure.values), ratioOf(figure)) ? "met" : "**missed**";
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function figureRow(figure: Figure): string {
  const decimals = decimalsByUnit[figure.unit];
  const ratio = ratioOf(figure);
  const cells = [
    figure.name,
    figure.fleetSize === undefined ? "–" : formatNumber(figure.fleetSize, 0),
    figure.unit,
    formatSpread(spreadOf(figure.values), decimals),
    ratio === undefined ? "" : formatSpread(ratio, 2),
    figure.target === undefined ? "" : describeTarget(figure.target, figure.unit),
    verdictOf(figure),
    figure.how ?? "",
  ];
  return `| ${cells.map(escapeCell).join(" | ")} |`;
}

/** Figures measured at more than one fleet size, as one row per figure and one column per fleet size (medians). */
function sweepTable(figures: readonly Figure[]): string[] {
  const sizes = [...new Set(figures.flatMap((figure) => (figure.fleetSize === undefined ? [] : [figure.fleetSize])))].sort((a, b) => a - b);
  const names = [...new Set(figures.map((figure) => figure.name))].filter(
    (name) => new Set(figures.filter((figure) => figure.name === name && figure.fleetSize !== undefined).map((figure) => figure.fleetSize)).size > 1,
  );
  if (names.length === 0) return [];
  const header = `| figure | ${sizes.map((size) => `${formatNumber(size, 0)} nodes`).join(" | ")} |`;
  const rule = `|---|${sizes.map(() => "---:").join("|")}|`;
  const rows = names.map((name) => {
    const cells = sizes.map((size) => {
      const figure = figures.find((candidate) => candidate.name === name && candidate.fleetSize === size);
      if (figure === undefined) return "";
      const median = formatNumber(spreadOf(figure.values).median, decimalsByUnit[figure.unit]);
      const ratio = ratioOf(figure);
      return ratio === undefined ? `${median} ${figure.unit}` : `${median} ${figure.unit} (${formatNumber(ratio.median, 2)} ×)`;
    });
    return `| ${escapeCell(name)} | ${cells.join(" | ")} |`;
  });
  return ["", "Fleet-size sweep (medians; the join and create paths must stay flat as the fleet grows):", "", header, rule, ...rows];
}

export function renderReport(report: BenchReport): string {
  const { machine } = report;
  const versions = Object.entries(report.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(", ");
  return [
    `Measured ${report.date.toISOString().slice(0, 16).replace("T", " ")} UTC (${report.mode} run).`,
    "",
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${formatNumber(machine.memoryBytes / 2 ** 30, 1)} GiB memory, ${machine.os}`,
    `- Versions: ${versions}`,
    `- Load: ${report.settings}`,
    "",
    "Each figure is min / **median** / max over the repeated runs; the ratio divides each run by the bare Koa baseline run measured just before it (same connections and length; the baseline row holds all of those runs); targets are judged on the median.",
    "",
    "| figure | nodes | unit | min / **median** / max | ratio to baseline | target | verdict | how |",
    "|---|---:|---|---:|---:|---|---|---|",
    ...report.figures.map(figureRow),
    ...sweepTable(report.figures),
  ].join("\n");
}

export const generatedBegin = "<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->";
export const generatedEnd = "<!-- bench:results:end -->";

/**
 * Puts freshly generated results between the markers of a hand-written document, keeping everything around them.
 * A document without the markers gets them appended at its end.
 */
export function replaceGenerated(document: string, generated: string): string {
  const block = `${generatedBegin}\n${generated}\n${generatedEnd}`;
  const begin = document.indexOf(generatedBegin);
  const end = document.indexOf(generatedEnd);
  if (begin === -1 || end === -1 || end < begin) {
    const separator = document === "" || document.endsWith("\n\n") ? "" : document.endsWith("\n") ? "\n" : "\n\n";
    return `${document}${separator}${block}\n`;
  }
  return document.slice(0, begin) + block + document.slice(end + generatedEnd.length);
}
