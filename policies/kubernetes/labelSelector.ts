/** A Kubernetes label selector (`matchLabels` and `matchExpressions`), as PodDisruptionBudgets and others declare it. */
export interface LabelSelectorView {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key?: string; operator?: string; values?: string[] }[];
}

/** Whether the selector selects an object with these labels; an empty selector selects everything, as in the API. */
export function selectorMatches(selector: LabelSelectorView, labels: Record<string, string>): boolean {
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const expressionsMatch = (selector.matchExpressions ?? []).every(({ key = "", operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        return false;
    }
  });
  return labelsMatch && expressionsMatch;
}
