import pino from 'pino';
import { config } from './config.js';

/** Structured JSON logs; child loggers carry operatorId, tourId and workflowId where known. */
export const logger = pino({ level: config().logLevel, base: { service: 'tour-import' } });
