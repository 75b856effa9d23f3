/** Dates, intervals and timestamps: everything is UTC epoch milliseconds. */

export interface Interval {
  n: number;
  unit: 's' | 'm' | 'h' | 'd' | 'w' | 'M';
  text: string;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export function parseInterval(text: string): Interval {
  const m = /^([1-9]\d*)(s|m|h|d|w|M)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not an interval; use a number and one of s m h d w M, e.g. 1h or 1d`);
  return { n: Number(m[1]), unit: m[2] as Interval['unit'], text };
}

/** `t` moved forward by `k` intervals. Months follow the calendar (day of month is kept, clamped). */
export function addIntervals(t: number, iv: Interval, k: number): number {
  if (iv.unit !== 'M') return t + k * iv.n * UNIT_MS[iv.unit];
  const d = new Date(t);
  const months = d.getUTCFullYear() * 12 + d.getUTCMonth() + k * iv.n;
  const y = Math.floor(months / 12);
  const mo = months - y * 12;
  const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
  return Date.UTC(y, mo, Math.min(d.getUTCDate(), last), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Nominal length of an interval in ms (30.44 days for a month); for gap tolerance only. */
export function nominalMs(iv: Interval): number {
  return iv.unit === 'M' ? iv.n * 2_629_746_000 : iv.n * UNIT_MS[iv.unit];
}

/**
 * Parses a date option: YYYY-MM-DD, or an ISO date-time with optional seconds, fraction and
 * offset. Without an offset it is UTC. Returns NaN when the text is not a valid date.
 */
export function parseDate(text: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (d) return validYmd(+d[1]!, +d[2]!, +d[3]!);
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return NaN;
  const day = validYmd(+m[1]!, +m[2]!, +m[3]!);
  const hh = +m[4]!;
  const mm = +m[5]!;
  const ss = m[6] ? +m[6] : 0;
  if (Number.isNaN(day) || hh > 23 || mm > 59 || ss > 60) return NaN;
  const frac = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  let t = day + hh * 3_600_000 + mm * 60_000 + ss * 1000 + frac;
  const z = m[8];
  if (z && z !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return t;
}

function validYmd(y: number, mo: number, d: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return NaN;
  const t = Date.UTC(y, mo - 1, d);
  return new Date(t).getUTCDate() === d ? t : NaN;
}

export function iso(t: number): string {
  return new Date(t).toISOString();
}

export function ymd(t: number): string {
  return iso(t).slice(0, 10);
}

/** Weekdays strictly between two UTC days (both given as epoch ms), for the weekday calendar. */
export function weekdaysBetween(a: number, b: number): number {
  const day = 86_400_000;
  const da = Math.floor(a / day);
  const db = Math.floor(b / day);
  let n = 0;
  // Gaps are short in practice; count whole weeks fast, then the rest.
  let from = da + 1;
  const weeks = Math.floor((db - from) / 7);
  if (weeks > 0) {
    n += weeks * 5;
    from += weeks * 7;
  }
  for (let x = from; x < db; x++) {
    const dow = (x + 4) % 7; // 1970-01-01 was a Thursday (4)
    if (dow !== 0 && dow !== 6) n++;
  }
  return n;
}

/** Durations like 12h, 1d, 500ms; 'never' → Infinity. */
export function parseDuration(text: string): number {
  if (text === 'never') return Infinity;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text);
  if (!m) return NaN;
  const unit = m[2]!;
  const f = unit === 'ms' ? 1 : UNIT_MS[unit as keyof typeof UNIT_MS];
  return Number(m[1]) * f;
}

export type TimeFormat = 'auto' | 'iso' | 'yyyymmdd' | 's' | 'ms' | 'us' | 'ns';

const EPOCH_SCALE: Record<'s' | 'ms' | 'us' | 'ns', number> = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 };

/**
 * Parses one timestamp cell. Returns NaN when it cannot be read, so the caller can name the line.
 * The ISO fast path avoids Date.parse for the common YYYY-MM-DD and YYYY-MM-DD HH:MM:SS forms.
 */
export function parseTimestamp(text: string, format: TimeFormat): number {
  if (format === 'iso') return parseIsoCell(text);
  if (format === 'yyyymmdd') return /^\d{8}$/.test(text) ? validYmd(+text.slice(0, 4), +text.slice(4, 6), +text.slice(6, 8)) : NaN;
  if (format !== 'auto') {
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? n * EPOCH_SCALE[format] : NaN;
  }
  const c0 = text.charCodeAt(0);
  if (text.length >= 8 && c0 >= 48 && c0 <= 57 && text.charCodeAt(4) === 45 /* - */) return parseIsoCell(text);
  if (text.length === 8 && /^(19|20|21)\d{6}$/.test(text)) {
    const t = validYmd(+text.slice(0, 4), +text.slice(4, 6), +text.slice(6, 8));
    if (!Number.isNaN(t)) return t;
  }
  if (text === '') return NaN;
  const n = Number(text);
  if (!Number.isFinite(n)) return parseIsoCell(text);
  return epochAuto(n);
}

/** Epoch seconds, ms, µs or ns, judged by magnitude (seconds up to year 5138, ms from 1973). */
export function epochAuto(n: number): number {
  const a = Math.abs(n);
  if (a < 1e11) return n * 1000;
  if (a < 1e14) return n;
  if (a < 1e17) return n / 1000;
  return n / 1e6;
}

function parseIsoCell(text: string): number {
  const t = parseDate(text);
  if (!Number.isNaN(t)) return t;
  const slash = /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(text);
  if (slash) return validYmd(+slash[1]!, +slash[2]!, +slash[3]!);
  return NaN;
}
