/** Health checking of real servers: the public API for the daemon. */
export { HealthChecker, HealthCheckerOptions } from './health-checker';
export * from './config';
export * from './events';
export { CheckStats } from './check-runner';
export { scavengeOnMainThread } from './gc';
export { ServerStatus } from './target-state';
export { VirtualServiceStatus } from './virtual-service';
