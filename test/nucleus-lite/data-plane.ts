/**
 * The one AWS IoT Greengrass data plane call a local deployment on nucleus lite makes before it goes on:
 * ListThingGroupsForCoreDevice (`GET /greengrass/v2/coreDevices/<thing>/thingGroups`, mutual TLS with the thing's
 * certificate). Unanswered, ggdeploymentd retries it for about two minutes; answered "no thing groups", it proceeds at
 * once, as with a core that belongs to no group. Any other request is answered 404 and recorded.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Certificates } from './certificates';

export class DataPlaneStandIn {
  readonly requests: string[] = [];
  private server: https.Server | undefined;

  constructor(
    private readonly certificates: Certificates,
    private readonly thingName: string,
  ) {}

  async start(): Promise<number> {
    const server = https.createServer(
      {
        key: fs.readFileSync(this.certificates.server.key),
        cert: fs.readFileSync(this.certificates.server.cert),
        ca: fs.readFileSync(this.certificates.caFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        this.requests.push(`${request.method} ${request.url}`);
        if (request.method === 'GET' && request.url === `/greengrass/v2/coreDevices/${this.thingName}/thingGroups`) {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ thingGroups: [] }));
        } else {
          response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'not served by the test' }));
        }
      },
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
