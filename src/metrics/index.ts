// lbd's observability: Prometheus metrics, the status page, /healthz (see README, "Metrics").
export {
  startMetricsServer,
  DEFAULT_METRICS_PORT,
  type MetricsServer,
  type MetricsServerOptions,
} from './server';
export { Scraper, wantsOpenMetrics, PROMETHEUS_TEXT, OPENMETRICS_TEXT, type ScrapeOptions } from './scrape';
export {
  lbdMetricsSource,
  type MetricsSource,
  type LbdLike,
  type EventSource,
  type ReloadInfo,
} from './source';
export { renderIpvs, configuredWeights, IpvsRenderer, IPVS_FAMILIES } from './ipvs-text';
export { Collector, type CollectorOptions, type Snapshot } from './collector';
export { statusDocument, type StatusDocument } from './status';
export { statusPage } from './page';
export { HealthRenderer, HEALTH_FAMILIES } from './health-text';
