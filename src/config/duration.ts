/** Durations: written with a unit in YAML ("1s", "500ms", "1m30s"), held in milliseconds in the model. */

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(us|ms|s|m|h|d)/y;

/** Milliseconds, or undefined when the text is not a duration with units. */
const cache = new Map<string, number | undefined>();

export function parseDuration(text: string): number | undefined {
  // Large configurations repeat the same few durations ("3s", "6s") many thousands of times.
  const hit = cache.get(text);
  if (hit !== undefined || cache.has(text)) return hit;
  const v = parseDurationText(text);
  if (cache.size < 4096) cache.set(text, v);
  return v;
}

function parseDurationText(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (s === '0') return 0;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = PART.lastIndex;
  }
  return roundMs(total);
}

/**
 * Rounds away binary noise (0.1 * 3 ...) at nanosecond resolution. A whole result comes back as a small
 * integer, not a double: one double in a field of the model boxes that field in every object of its shape.
 */
export function roundMs(ms: number): number {
  const r = Math.round(ms * 1e6) / 1e6;
  return r === (r | 0) ? r | 0 : r;
}

/** keepalived's decimal seconds ("1", "0.5", "0.000001") to milliseconds; undefined if not a number. */
export function parseSeconds(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text) && !/^\.\d+$/.test(text)) return undefined;
  return roundMs(Number(text) * 1000);
}

const formatted = new Map<number, string>();

/** The shortest exact unit form of a duration: 6000 -> "6s", 500 -> "500ms", 90000 -> "90s". */
export function formatDuration(ms: number): string {
  // One string for each of the few durations a large keepalived.conf repeats: not made again for
  // each, and found at once by parseDuration's cache when the builder reads it back.
  let text = formatted.get(ms);
  if (text === undefined) {
    text = formatDurationText(ms);
    if (formatted.size < 4096) formatted.set(ms, text);
  }
  return text;
}

function formatDurationText(ms: number): string {
  if (ms === 0) return '0s';
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0 && ms % 1000 === 0 && ms >= 600_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${roundMs(ms * 1000)}us`;
}
