/** What the proof ran and saw, printed once at the end as its summary. */
export const stats = {
  sequences: 0,
  steps: 0,
  byKind: new Map<string, number>(),
  valuesScanned: 0,
  statesScanned: 0,
  outcomes: new Map<string, number>(),
};

/** Counts one outcome of a step (e.g. "pairing locked out"), for the summary. */
export function count(outcome: string): void {
  stats.outcomes.set(outcome, (stats.outcomes.get(outcome) ?? 0) + 1);
}
