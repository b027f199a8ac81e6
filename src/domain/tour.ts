import { z } from 'zod';

/**
 * The canonical tour every operator dialect is mapped to. Every field is bounded by what its
 * PostgreSQL column stores (src/db/migrations), so a tour that passes here is never refused by the
 * database later, where the failure would be harder to read and, before it was typed, retried
 * forever. Text limits are generous for a tour page; ids are short because they end up in workflow ids.
 */

/** price_amount numeric(12, 2): ten digits before the point. */
export const MAX_PRICE_AMOUNT = 9_999_999_999.99;
/** timestamptz holds far more, but years outside 1..9999 are not ISO 8601 and are surely a fault. */
const EARLIEST_TIMESTAMP = Date.parse('0001-01-01T00:00:00Z');
const LATEST_TIMESTAMP = Date.parse('9999-12-31T23:59:59.999Z');

function inStorableYears(iso: string): boolean {
  const t = Date.parse(iso);
  return t >= EARLIEST_TIMESTAMP && t <= LATEST_TIMESTAMP;
}

const TourImageSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  caption: z.string().max(2000).nullable(),
});

export const TourSchema = z.object({
  operatorId: z.string().min(1).max(200),
  externalId: z.string().min(1).max(200),
  title: z.string().trim().min(1).max(500),
  description: z.string().max(50_000),
  // duration_minutes is an int4; sixty days is far inside it and beyond any real tour.
  durationMinutes: z
    .number()
    .int()
    .positive()
    .max(60 * 24 * 60)
    .nullable(),
  price: z
    .object({
      amount: z
        .number()
        .nonnegative()
        .max(MAX_PRICE_AMOUNT, `must be at most ${MAX_PRICE_AMOUNT} (numeric(12,2))`),
      // price_currency char(3): an ISO 4217 code.
      currency: z.string().regex(/^[A-Z]{3}$/),
    })
    .nullable(),
  location: z
    .object({
      name: z.string().min(1).max(500),
      country: z.string().max(100).nullable(),
      latitude: z.number().min(-90).max(90).nullable(),
      longitude: z.number().min(-180).max(180).nullable(),
    })
    .nullable(),
  images: z.array(TourImageSchema).max(100),
  /** The operator's own last-updated mark (ISO 8601), when its API has one. */
  sourceUpdatedAt: z.iso
    .datetime({ offset: true, abort: true })
    .refine(inStorableYears, 'must lie between the years 1 and 9999')
    .nullable(),
});

export type Tour = z.infer<typeof TourSchema>;
