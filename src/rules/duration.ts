// Durations in the config ("500ms", "30s", "5m", "1h30m", or a number of seconds), parsed in one place.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h)\s*)+$/;
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h)/g;

/** Milliseconds, or undefined when `value` is not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  }
  if (typeof value !== 'string' || !WHOLE.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit ?? 's'] ?? 0);
  }
  // Zero is a value, not "not set": the caller says whether it may be zero.
  return Math.round(total);
}

/** "1h30m", "2.5s", "300ms": the shortest exact spelling, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join('');
}
