import net from 'node:net';

/**
 * A TCP proxy in front of a real server (MariaDB here) that a test can take down, bring back,
 * slow down or use to drop every open connection, as a crashed, restarted or overloaded server
 * would, without touching the server other test files share.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let maxConcurrent = 0;
  let latencyMs = 0;

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    maxConcurrent = Math.max(maxConcurrent, pairs.size);
    const relay = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (latencyMs === 0) to.write(chunk);
        else {
          from.pause();
          setTimeout(() => {
            to.write(chunk);
            from.resume();
          }, latencyMs);
        }
      });
    relay(client, upstream);
    relay(upstream, client);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  const listen = (port = 0) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen();

  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    port,
    url: (database: string, user = 'root') => `mysql://${user}@127.0.0.1:${port}/${database}`,
    /** Like a stopped server: open connections die and new ones are refused. */
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      });
    },
    /** Like the server coming back on the same address. */
    async start() {
      await listen(port);
    },
    /** Like KILL or wait_timeout on every connection: the server closes them. */
    dropAll,
    setLatency(ms: number) {
      latencyMs = ms;
    },
    get open() {
      return pairs.size;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    resetMaxConcurrent() {
      maxConcurrent = pairs.size;
    },
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
