import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'reset' | 'stall';

/** A TCP proxy on a loopback port in front of a real server, that can break the path on demand. */
export interface FaultProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** The port is closed (ECONNREFUSED) and open connections are reset: the server went down. */
  refuse(): Promise<void>;
  /** Connections are accepted and reset at once, open ones too: a server restarting, a flapping path. */
  reset(): void;
  /** Nothing gets through in either direction, but nothing is closed: a black-holed network path. */
  stall(): void;
  /** The path works again; bytes held back by a stall are delivered. */
  restore(): Promise<void>;
  /**
   * From now on, a connection whose client sends bytes containing `text` is reset at that moment, before
   * the bytes reach the server: a fault timed to land on one particular statement.
   */
  resetWhenClientSends(text: string): void;
  /** Everything clients have sent through the proxy, as text (protocol framing included). */
  readonly clientText: string;
  /** Connections made through the proxy so far. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

/**
 * Faults from outside the process, without root or a cluster: the app connects to the proxy's port
 * instead of the server's, and the test switches the proxy between passing, refusing, resetting and
 * stalling. Loopback only.
 */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: ProxyMode = 'pass';
  let connections = 0;
  let resetTrigger: string | undefined;
  let clientText = '';
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;

  function forward(from: Socket, to: Socket, held: Buffer[]): void {
    from.on('data', (chunk: Buffer) => {
      if (from.destroyed) return;
      if (mode === 'stall') held.push(chunk);
      else to.write(chunk);
    });
  }

  function onConnection(client: Socket): void {
    connections++;
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: { toUpstream: [], toClient: [] } };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      clientText += text;
      if (resetTrigger && text.includes(resetTrigger)) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    forward(client, upstream, pair.held.toUpstream);
    forward(upstream, client, pair.held.toClient);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  }

  async function listen(): Promise<void> {
    server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as { port: number }).port;
  }

  function resetAll(): void {
    for (const pair of pairs) {
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  }

  async function stopListening(): Promise<void> {
    const closing = server;
    server = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    get connections() {
      return connections;
    },
    get clientText() {
      return clientText;
    },
    resetWhenClientSends(text: string) {
      resetTrigger = text;
    },
    async refuse() {
      mode = 'refuse';
      resetAll();
      await stopListening();
    },
    reset() {
      mode = 'reset';
      resetAll();
    },
    stall() {
      mode = 'stall';
    },
    async restore() {
      mode = 'pass';
      if (!server) await listen();
      for (const pair of pairs) {
        for (const chunk of pair.held.toUpstream.splice(0)) pair.upstream.write(chunk);
        for (const chunk of pair.held.toClient.splice(0)) pair.client.write(chunk);
      }
    },
    async close() {
      resetAll();
      await stopListening();
    },
  };
}
