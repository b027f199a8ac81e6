import { hash } from './hash.js';
import type { SimOperator } from './operator.js';
import type { TourRecord } from './operator-catalog.js';

/**
 * One generated tour as an OCTO product (the spec's Product, every field it requires), with the parts
 * an importer must get right: a non-default option listed first with lower prices, per-unit and
 * per-booking pricing in minor units, media merged from product and default option (a photo in both,
 * a LOGO, a video, the COVER listed last), a duration on the option only now and then. Content fields
 * only when octo/content was initialised, pricing fields only with octo/pricing.
 */

export interface ProductView {
  content: boolean;
  pricing: boolean;
  /** The content language chosen for this answer; the operator's first language adds nothing. */
  language: string;
  defaultLanguage: string;
}

const ZERO_DECIMAL = new Set(['JPY', 'ISK', 'KRW']);

function currencyPrecision(currency: string): number {
  return ZERO_DECIMAL.has(currency) ? 0 : 2;
}

/** Every third product is priced per booking (a private charter), the rest per unit. */
function pricedPerBooking(op: SimOperator, t: TourRecord): boolean {
  return hash(op.catalog.seed, t.index, 'octo-per') % 3 === 0;
}

/** Every fourth product gives its duration on its default option only. */
function durationOnOption(op: SimOperator, t: TourRecord): boolean {
  return hash(op.catalog.seed, t.index, 'octo-dur') % 4 === 0;
}

function price(retail: number, currency: string) {
  return {
    original: retail,
    retail,
    net: Math.floor(retail * 0.8),
    currency,
    currencyPrecision: currencyPrecision(currency),
    includedTaxes: [],
  };
}

function media(src: string, type: string, rel: string, caption: string | null) {
  return { src, type, rel, title: null, caption, copyright: caption === null ? null : '© the operator' };
}

/** Product media: the logo, a video, the gallery but for the last photo, the cover last of all. */
function productMedia(op: SimOperator, t: TourRecord) {
  const [cover, ...rest] = t.images;
  const gallery = rest.slice(0, -1);
  return [
    media(`${op.baseUrl}/img/logo.png`, 'image/png', 'LOGO', null),
    media(`${op.baseUrl}/video/${t.code}.mp4`, 'video/mp4', 'GALLERY', 'A minute of the tour'),
    ...gallery.map((img) => media(op.imageUrl(img.id), 'image/jpeg', 'GALLERY', img.caption)),
    ...(cover ? [media(op.imageUrl(cover.id), 'image/jpeg', 'COVER', cover.caption)] : []),
  ];
}

/** The default option's media: the product's first gallery photo again, and the last photo only here. */
function optionMedia(op: SimOperator, t: TourRecord) {
  const rest = t.images.slice(1);
  const shared = rest.length > 1 ? [rest[0]] : [];
  const own = rest.slice(-1);
  return [...shared, ...own].map((img) => media(op.imageUrl(img.id), 'image/jpeg', 'GALLERY', img.caption));
}

function location(t: TourRecord) {
  return {
    title: t.city,
    shortDescription: `Meeting point in ${t.city}`,
    types: ['START'],
    minutesTo: null,
    minutesAt: null,
    place: {
      latitude: t.latitude,
      longitude: t.longitude,
      postalAddress: {
        streetAddress: null,
        addressLocality: t.city,
        addressRegion: null,
        postalCode: null,
        addressCountry: t.countryCode,
        postOfficeBoxNumber: null,
      },
      identifiers: {
        googlePlaceId: null,
        applePlaceId: null,
        tripadvisorLocationId: null,
        yelpPlaceId: null,
        facebookPlaceId: null,
        foursquarePlaceId: null,
        baiduPlaceId: null,
        amapPlaceId: null,
      },
      sameAs: [],
    },
  };
}

function unit(id: string, type: string, retail: number | undefined, v: ProductView, currency: string) {
  return {
    id,
    internalName: type === 'ADULT' ? 'Adult' : 'Child',
    reference: null,
    type,
    restrictions: {
      minAge: type === 'ADULT' ? 18 : 3,
      maxAge: type === 'ADULT' ? 99 : 17,
      idRequired: false,
      minQuantity: null,
      maxQuantity: null,
      paxCount: 1,
      accompaniedBy: type === 'ADULT' ? [] : ['adult'],
    },
    requiredContactFields: [],
    ...(v.pricing && retail !== undefined ? { pricingFrom: [price(retail, currency)] } : {}),
    ...(v.content ? { title: type === 'ADULT' ? 'Adult' : 'Child', shortDescription: `${type} ticket` } : {}),
  };
}

/**
 * An option in minor units: `minor` is the tour's price. Per unit, the child's ticket costs it and the
 * adult's more, so the lowest unit price is the tour's; per booking, the option costs it.
 */
function option(op: SimOperator, t: TourRecord, v: ProductView, isDefault: boolean) {
  const scale = isDefault ? 1 : 0.5; // the other option is cheaper: an importer must read the default one
  const minor = Math.round(t.price * scale * 10 ** currencyPrecision(t.currency));
  const perBooking = pricedPerBooking(op, t);
  const units = [
    unit('adult', 'ADULT', perBooking ? undefined : Math.round(minor * 1.25), v, t.currency),
    unit('child', 'CHILD', perBooking ? undefined : minor, v, t.currency),
  ];
  return {
    id: isDefault ? 'DEFAULT' : 'PRIVATE',
    default: isDefault,
    internalName: isDefault ? 'Standard' : 'Private group',
    reference: null,
    availabilityLocalStartTimes: ['09:00', '14:00'],
    cancellationCutoff: '1 day',
    cancellationCutoffAmount: 1,
    cancellationCutoffUnit: 'day',
    requiredContactFields: ['firstName', 'lastName'],
    restrictions: { minUnits: 1, maxUnits: 12 },
    units,
    ...(v.pricing && perBooking ? { pricingFrom: [price(minor, t.currency)] } : {}),
    ...(v.content && isDefault
      ? {
          title: 'Standard',
          shortDescription: null,
          description: null,
          media: optionMedia(op, t),
          ...(durationOnOption(op, t) ? { durationMinutesFrom: t.durationMinutes } : {}),
        }
      : {}),
  };
}

export function octoProduct(op: SimOperator, t: TourRecord, v: ProductView) {
  const title = v.language === v.defaultLanguage ? t.title : `${t.title} [${v.language}]`;
  return {
    id: t.code,
    internalName: `${t.code} ${t.city}`,
    reference: `REF-${t.index + 1}`,
    locale: v.defaultLanguage,
    timeZone: 'Europe/Zurich',
    allowFreesale: false,
    instantConfirmation: true,
    instantDelivery: true,
    availabilityRequired: true,
    availabilityType: 'START_TIME',
    deliveryFormats: ['QRCODE'],
    deliveryMethods: ['TICKET'],
    redemptionMethod: 'DIGITAL',
    // The default option second: "default" is a field, not a position.
    options: [option(op, t, v, false), option(op, t, v, true)],
    ...(v.pricing
      ? {
          defaultCurrency: t.currency,
          availableCurrencies: [t.currency],
          pricingPer: pricedPerBooking(op, t) ? 'BOOKING' : 'UNIT',
        }
      : {}),
    ...(v.content
      ? {
          title,
          shortDescription: t.shortDescription,
          description: t.description,
          media: productMedia(op, t),
          locations: [location(t)],
          categoryLabels: ['guided-tours'],
          ...(durationOnOption(op, t)
            ? {}
            : { durationMinutesFrom: t.durationMinutes, durationMinutesTo: t.durationMinutes }),
        }
      : {}),
  };
}
