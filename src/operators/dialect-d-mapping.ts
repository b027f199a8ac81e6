import {
  zLocation,
  zMedia,
  zMediaType,
  zOption,
  zPlace,
  zPostalAddress,
  zPricing,
  zProduct,
  zUnit,
} from '@octocloud/types';
import { TourValidationError } from '../domain/errors.js';
import type { Tour } from '../domain/tour.js';
import { asArray, asRecord, entryFrom, missingId, orNull, text, validate, type Raw } from './mapping.js';
import type { ListEntry } from './types.js';

/**
 * Dialect D (OCTO) products → the canonical Tour. Pure. Every field the mapping reads is checked with
 * the specification's own zod schemas (`@octocloud/types`), picked down to those fields: a supplier that
 * leaves out what only booking needs (availability, delivery, restrictions, contact fields…) or adds
 * fields of its own is still imported, and a field the mapping reads with the wrong shape is a recorded
 * validation failure naming its path (`options[0].units[1].pricingFrom[0].retail`).
 */

const ProductFields = zProduct
  .pick({
    id: true,
    internalName: true,
    title: true,
    shortDescription: true,
    description: true,
    durationMinutesFrom: true,
    defaultCurrency: true,
    pricingPer: true,
  })
  .partial()
  .required({ id: true });
const OptionFields = zOption.pick({ id: true, default: true, durationMinutesFrom: true }).partial();
const UnitFields = zUnit.pick({ id: true }).partial();
const PriceFields = zPricing.pick({ retail: true, currency: true, currencyPrecision: true });
const MediaFields = zMedia
  .pick({ src: true, type: true, rel: true })
  .merge(zMedia.pick({ title: true, caption: true }).partial());
const LocationFields = zLocation.pick({ title: true, types: true }).partial();
const PlaceFields = zPlace.pick({ latitude: true, longitude: true }).partial();
const AddressFields = zPostalAddress.pick({ addressLocality: true, addressCountry: true }).partial();

/** Media types that are images: the others (videos, YouTube and Vimeo links) are not imported. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(zMediaType.options.filter((t) => t.startsWith('image/')));

type Issue = { path: (string | number)[]; message: string };
type Checked<T> = { success: true; data: T } | { success: false; error: { issues: Issue[] } };

interface Where {
  operatorId: string;
  externalId: string;
}

/** `value` as `schema` reads it, or a TourValidationError naming the field at `path`. */
function read<T>(schema: { safeParse(v: unknown): Checked<T> }, value: unknown, at: Where, path: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const field = [path, ...first.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))].join('');
  throw new TourValidationError(
    at.operatorId,
    at.externalId,
    field.replace(/^\./, ''),
    first.message,
    result.error.issues.length,
  );
}

/** The option the spec calls default (`default: true`), else the first; with its index for paths. */
function defaultOption(p: Raw): { option: Raw; path: string } {
  const options = asArray(p.options).map((o) => asRecord(o) ?? {});
  const index = Math.max(
    0,
    options.findIndex((o) => o.default === true),
  );
  return { option: options[index] ?? {}, path: `options[${index}]` };
}

interface Price {
  retail: number;
  currency: string;
  currencyPrecision: number;
}

function prices(list: unknown, at: Where, path: string): Price[] {
  return asArray(list).map((x, i) => read(PriceFields, x, at, `${path}.pricingFrom[${i}]`));
}

/**
 * The lowest `retail` above zero of the default option's `pricingFrom`: on the option when priced
 * per booking, on its units when per unit (the spec's most common case, so also when `pricingPer` is
 * missing and the units have prices), in the product's `defaultCurrency` (where it has none there, in
 * the first price's currency). Amounts are integers in minor units: divided by 10^currencyPrecision.
 */
function lowestPrice(
  p: Raw,
  product: { defaultCurrency?: string; pricingPer?: string },
  at: Where,
): Raw | null {
  const { option, path } = defaultOption(p);
  const perOption = prices(option.pricingFrom, at, path);
  const perUnit = asArray(option.units).flatMap((u, i) => {
    read(UnitFields, u, at, `${path}.units[${i}]`);
    return prices(asRecord(u)?.pricingFrom, at, `${path}.units[${i}]`);
  });
  const per = product.pricingPer ?? (perUnit.length ? 'UNIT' : 'BOOKING');
  const candidates = per === 'BOOKING' ? perOption : perUnit;
  const inCurrency = [product.defaultCurrency, candidates[0]?.currency]
    .map((currency) => candidates.filter((c) => c.currency === currency))
    .find((list) => list.length);
  if (!inCurrency) return null;
  // A unit that rides free (the spec's own example: an infant at 0) is not what the tour costs.
  const paid = inCurrency.filter((c) => c.retail > 0);
  const lowest = (paid.length ? paid : inCurrency).reduce((a, b) => (b.retail < a.retail ? b : a));
  // An integer divided by a power of ten is the nearest double to the decimal: it prints as that decimal.
  return { amount: lowest.retail / 10 ** lowest.currencyPrecision, currency: lowest.currency };
}

const REL_ORDER: Record<string, number> = { COVER: 0, GALLERY: 1 };
/** Only a COVER or GALLERY image is checked and imported: a LOGO is the supplier's brand, not the tour. */
const imported = (rel: unknown) => typeof rel === 'string' && Object.hasOwn(REL_ORDER, rel);

/**
 * The product's and the default option's media merged (the spec asks resellers to merge them), images
 * only, the logo left out, COVER first and then GALLERY in their order, each photo once.
 */
function images(p: Raw, at: Where): Raw[] {
  const { option, path } = defaultOption(p);
  const listed = [
    ...asArray(p.media).map((m, i) => ({ m, path: `media[${i}]` })),
    ...asArray(option.media).map((m, i) => ({ m, path: `${path}.media[${i}]` })),
  ].filter(({ m }) => IMAGE_TYPES.has(String(asRecord(m)?.type)) && imported(asRecord(m)?.rel));
  const media = listed
    .map(({ m, path: where }) => read(MediaFields, m, at, where))
    .sort((a, b) => REL_ORDER[a.rel] - REL_ORDER[b.rel]);
  const seen = new Set<string>();
  return media
    .filter((m) => !seen.has(m.src) && seen.add(m.src))
    .map((m) => ({ url: m.src, caption: orNull(text(m.caption) ?? text(m.title)) }));
}

/** Where the tour takes place: its START location, else its first (the product's, else the option's). */
function location(p: Raw, at: Where): Raw | null {
  const { option, path } = defaultOption(p);
  const own = asArray(p.locations).length > 0;
  const list = own ? asArray(p.locations) : asArray(option.locations);
  const base = own ? 'locations' : `${path}.locations`;
  if (!list.length) return null;
  const read0 = list.map((l, i) => read(LocationFields, l, at, `${base}[${i}]`));
  const index = Math.max(
    0,
    read0.findIndex((l) => l.types?.includes('START')),
  );
  const place = asRecord(asRecord(list[index])?.place);
  const where = read(PlaceFields, place, at, `${base}[${index}].place`);
  const address = read(AddressFields, place?.postalAddress, at, `${base}[${index}].place.postalAddress`);
  const name = text(read0[index].title) ?? text(address.addressLocality);
  if (name === undefined) return null;
  return {
    name,
    country: orNull(text(address.addressCountry)),
    latitude: orNull(where.latitude),
    longitude: orNull(where.longitude),
  };
}

/** Pure: one OCTO product → canonical Tour (throws TourValidationError). */
export function mapDProduct(operatorId: string, raw: unknown, fallbackId = '(unknown)'): Tour {
  const p = asRecord(raw) ?? {};
  const at = { operatorId, externalId: text(p.id) ?? fallbackId };
  const product = read(ProductFields, p, at, '');
  const { option, path } = defaultOption(p);
  const opt = read(OptionFields, option, at, path);
  return validate(operatorId, at.externalId, {
    operatorId,
    externalId: text(product.id),
    title: text(product.title) ?? text(product.internalName),
    description: product.description ?? product.shortDescription ?? '',
    durationMinutes: product.durationMinutesFrom ?? opt.durationMinutesFrom ?? null,
    price: lowestPrice(p, product, at),
    location: location(p, at),
    images: images(p, at),
    sourceUpdatedAt: null,
  });
}

/** Pure: one element of the `/products` array → ListEntry (a rejected product → invalid, recorded). */
export function mapDListItem(operatorId: string, raw: unknown, index: number): ListEntry {
  const externalId = text(asRecord(raw)?.id) ?? missingId(index);
  return entryFrom(externalId, () => ({
    kind: 'active',
    externalId,
    sourceUpdatedAt: null,
    tour: mapDProduct(operatorId, raw, externalId),
  }));
}
