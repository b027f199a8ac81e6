import { z } from 'zod';

/** The canonical tour every operator dialect is mapped to. */
export const TourImageSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  caption: z.string().max(2000).nullable(),
});

export const TourSchema = z.object({
  operatorId: z.string().min(1),
  externalId: z.string().min(1).max(200),
  title: z.string().trim().min(1).max(500),
  description: z.string().max(50_000),
  durationMinutes: z
    .number()
    .int()
    .positive()
    .max(60 * 24 * 60)
    .nullable(),
  price: z
    .object({ amount: z.number().nonnegative().finite(), currency: z.string().regex(/^[A-Z]{3}$/) })
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
  sourceUpdatedAt: z.iso.datetime({ offset: true }).nullable(),
});

export type Tour = z.infer<typeof TourSchema>;
export type TourImage = z.infer<typeof TourImageSchema>;
