import type { OperatorSpecInput } from './types.js';

/** One operator per dialect, small enough to import in a demo. Credentials are not secrets. */
export const DEMO_OPERATORS: OperatorSpecInput[] = [
  {
    id: 'alpine-trails',
    dialect: 'A',
    seed: 'alpine-trails',
    tourCount: 60,
    credentials: { apiKey: 'alpine-trails-key' },
  },
  {
    id: 'coastal-walks',
    dialect: 'B',
    seed: 'coastal-walks',
    tourCount: 60,
    credentials: { apiKey: 'coastal-walks-key' },
  },
  {
    id: 'city-tours',
    dialect: 'C',
    seed: 'city-tours',
    tourCount: 60,
    credentials: { apiKey: 'city-tours-secret', channelId: '3930', marketplaceId: '0' },
  },
  {
    id: 'lake-cruises',
    dialect: 'D',
    seed: 'lake-cruises',
    tourCount: 60,
    credentials: { apiKey: 'lake-cruises-key' },
  },
];
