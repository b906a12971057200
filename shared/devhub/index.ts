export { DevHubServer, type DevHubServerOptions } from './server';
export { DevHubClient, type DevHubClientOptions } from './client';
