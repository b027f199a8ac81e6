export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

const round = (v: number, digits = 2) =>
  Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v;

export function fmt(v: number | undefined, digits = 2): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return round(v, digits).toLocaleString('en-US', { maximumFractionDigits: digits });
}
