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
export { renderIpvs, configuredWeights, IPVS_FAMILIES } from './ipvs-text';
export { statusDocument, type StatusDocument } from './status';
export { statusPage } from './page';
export { renderHealth, HEALTH_FAMILIES } from './health-text';
