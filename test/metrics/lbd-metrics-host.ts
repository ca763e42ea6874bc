// Test helper (not a test): runs lbd (the Lbd class) with the metrics listener wired as the daemon will
// wire it, in whatever namespace it is started. argv: CONFIG SOCKET ADDRESS PORT. Prints "ready" once
// both are up; SIGTERM stops it.
import { Lbd } from '../../src/daemon/lbd';
import { Logs } from '../../src/daemon/logger';
import { lbdMetricsSource, startMetricsServer } from '../../src/metrics';

async function main(): Promise<void> {
  const [configFile, socketPath, address, port] = process.argv.slice(2);
  const lbd = new Lbd({
    configFile,
    socketPath,
    logs: new Logs({ level: 'info' }),
    hostChecks: 'off',
    driftIntervalMs: 2000,
  });
  await lbd.start();
  const metrics = await startMetricsServer(lbdMetricsSource(lbd), {
    address,
    port: Number(port),
    refreshMs: 500,
  });
  console.log(`ready ${metrics.address}:${metrics.port}`);
  process.once('SIGTERM', () => {
    void metrics
      .close()
      .then(() => lbd.stop())
      .finally(() => process.exit(0));
  });
}

main().catch((err: Error) => {
  console.error(`lbd-metrics-host: ${err.stack ?? err.message}`);
  process.exit(1);
});
