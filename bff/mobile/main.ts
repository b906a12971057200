/** The mobile BFF process (`npm start` runs it on base+200). */
import { serveBff } from '../shared';
import { createMobileBff } from './app';

serveBff('mobile-bff', createMobileBff, (config) => config.bff.mobilePort);
