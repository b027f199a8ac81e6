import { hash, pick, unit } from './hash.js';

/**
 * Word pools for generated tours. Non-ASCII on purpose (umlauts, en dashes, CJK, emoji) so
 * importers are exercised on real-world text, and descriptions carry markup and `&` so XML and
 * HTML escaping is exercised too.
 */
interface Place {
  city: string;
  country: string;
  countryCode: string;
  currency: string;
  lat: number;
  lng: number;
  sights: readonly string[];
}

const PLACES: readonly Place[] = [
  {
    city: 'Zürich',
    country: 'Switzerland',
    countryCode: 'CH',
    currency: 'CHF',
    lat: 47.3769,
    lng: 8.5417,
    sights: ['Altstadt café tour', 'Üetliberg sunrise hike', 'Lake cruise & fondue'],
  },
  {
    city: 'Kyoto',
    country: 'Japan',
    countryCode: 'JP',
    currency: 'JPY',
    lat: 35.0116,
    lng: 135.7681,
    sights: ['嵐山 竹林散策', 'Fushimi Inari at dawn ⛩️', '祇園 night walk'],
  },
  {
    city: 'Lisboa',
    country: 'Portugal',
    countryCode: 'PT',
    currency: 'EUR',
    lat: 38.7223,
    lng: -9.1393,
    sights: ['Alfama fado evening 🎶', 'Tram 28 & pastéis de nata', 'Belém by bike 🚲'],
  },
  {
    city: 'Reykjavík',
    country: 'Iceland',
    countryCode: 'IS',
    currency: 'ISK',
    lat: 64.1466,
    lng: -21.9426,
    sights: ['Northern lights chase 🌌', 'Golden Circle – Þingvellir', 'Whale watching'],
  },
  {
    city: 'Chamonix',
    country: 'France',
    countryCode: 'FR',
    currency: 'EUR',
    lat: 45.9237,
    lng: 6.8694,
    sights: ['Mer de Glace glacier walk', 'Aiguille du Midi – l’ascension', 'Crêpes & alpine lakes'],
  },
  {
    city: 'Kraków',
    country: 'Poland',
    countryCode: 'PL',
    currency: 'PLN',
    lat: 50.0647,
    lng: 19.945,
    sights: ['Kazimierz food crawl', 'Wieliczka salt mine', 'Wawel dragon legends 🐉'],
  },
  {
    city: 'New York',
    country: 'United States',
    countryCode: 'US',
    currency: 'USD',
    lat: 40.7128,
    lng: -74.006,
    sights: ['Brooklyn Bridge & DUMBO', 'Harlem gospel Sunday', 'Central Park bike tour'],
  },
  {
    city: 'Cape Town',
    country: 'South Africa',
    countryCode: 'ZA',
    currency: 'ZAR',
    lat: -33.9249,
    lng: 18.4241,
    sights: ['Table Mountain hike ⛰️', 'Bo-Kaap colours & cooking', 'Cape Point coastal drive'],
  },
  {
    city: 'München',
    country: 'Germany',
    countryCode: 'DE',
    currency: 'EUR',
    lat: 48.1351,
    lng: 11.582,
    sights: ['Biergarten & Brezn walk', 'Schloss Neuschwanstein day trip', 'Englischer Garten surfers'],
  },
  {
    city: '서울',
    country: 'South Korea',
    countryCode: 'KR',
    currency: 'KRW',
    lat: 37.5665,
    lng: 126.978,
    sights: ['경복궁 palace walk', 'Gwangjang market tasting 🍜', 'Bukchon hanok village'],
  },
];

const STYLES = [
  'Small-group',
  'Private',
  'Sunset',
  'Family-friendly',
  'Guided',
  'Self-guided',
  'Early-bird',
  'Photographer’s',
] as const;
const HIGHLIGHTS = [
  'local guide & tastings',
  'hotel pick-up <i>included</i>',
  'skip-the-line entry',
  'small groups (max. 12)',
  'views you won’t forget',
  'coffee, tea & snacks',
] as const;
const DURATIONS = [60, 90, 120, 150, 180, 240, 300, 360, 480, 600, 1440, 2880] as const;

export interface TourContent {
  title: string;
  shortDescription: string;
  /** HTML fragment: contains markup and `&`, as operators' descriptions do. */
  description: string;
  durationMinutes: number;
  price: number;
  currency: string;
  city: string;
  country: string;
  countryCode: string;
  latitude: number;
  longitude: number;
}

export function generateContent(seed: number, index: number, rev: number): TourContent {
  const place = pick(PLACES, hash(seed, index, 'place'));
  const sight = pick(place.sights, hash(seed, index, 'sight'));
  const style = pick(STYLES, hash(seed, index, 'style'));
  const suffix = rev > 0 ? ` (rev ${rev})` : '';
  const title = `${place.city} – ${style} ${sight} #${index + 1}${suffix}`;
  const k = hash(seed, index, 'h1') % HIGHLIGHTS.length;
  const h1 = HIGHLIGHTS[k];
  const h2 = HIGHLIGHTS[(k + 1 + (hash(seed, index, 'h2') % (HIGHLIGHTS.length - 1))) % HIGHLIGHTS.length];
  const shortDescription = `${style} ${sight} in ${place.city}: ${h1.replace(/<\/?i>/g, '')}.`;
  const updated = rev > 0 ? `<p><em>Updated itinerary (rev ${rev}).</em></p>` : '';
  const description =
    `<p>Discover <b>${place.city}</b> with our ${style.toLowerCase()} ${sight}.</p>` +
    `<ul><li>${h1}</li><li>${h2}</li></ul>` +
    `<p>Price &amp; availability vary by season – bring comfy shoes 👟.</p>${updated}`;
  const base = 15 + Math.floor(unit(seed, index, 'price') * 300);
  const scale = place.currency === 'JPY' || place.currency === 'ISK' || place.currency === 'KRW' ? 100 : 1;
  // Two decimals except in zero-decimal currencies, as real price lists look.
  const price = scale === 1 ? base + Math.floor(unit(seed, index, 'cents') * 100) / 100 : base * scale;
  return {
    title,
    shortDescription,
    description,
    durationMinutes: pick(DURATIONS, hash(seed, index, 'dur')),
    price,
    currency: place.currency,
    city: place.city,
    country: place.country,
    countryCode: place.countryCode,
    latitude: round5(place.lat + (unit(seed, index, 'lat') - 0.5) * 0.1),
    longitude: round5(place.lng + (unit(seed, index, 'lng') - 0.5) * 0.1),
  };
}

export function imageCaption(seed: number, index: number, slot: number): string {
  const place = pick(PLACES, hash(seed, index, 'place'));
  return slot === 0 ? `${place.city} – view №${slot + 1}` : `${place.city} & surroundings (${slot + 1}/…) 📷`;
}

function round5(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}

/** Plain-text rendering of a generated HTML description (dialect A sends text, not markup). */
export function toPlainText(html: string): string {
  return html
    .replace(/<li>/g, '• ')
    .replace(/<\/(p|li|ul)>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/\n+/g, '\n')
    .trim();
}
