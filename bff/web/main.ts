/** The web BFF process (`npm start` runs it on base+100). */
import { serveBff } from '../shared';
import { createWebBff } from './app';

serveBff('web-bff', createWebBff, (config) => config.bff.webPort);
