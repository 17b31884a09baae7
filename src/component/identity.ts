/**
 * Component name, version and author. gdk-config.json is their only source: the bundle gets them
 * at build time (esbuild `define`), and unbundled runs (tests, tsx) read the file itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ComponentIdentity {
  name: string;
  version: string;
  author: string;
}

declare const __COMPONENT_IDENTITY__: ComponentIdentity | undefined;

function parseGdkConfig(text: string): ComponentIdentity {
  const config = JSON.parse(text) as { component?: Record<string, { author?: unknown; version?: unknown }> };
  const entries = Object.entries(config.component ?? {});
  if (entries.length !== 1) throw new Error('gdk-config.json must name exactly one component');
  const [name, details] = entries[0]!;
  if (typeof details.version !== 'string' || typeof details.author !== 'string') {
    throw new Error(`gdk-config.json: component ${name} needs string "author" and "version"`);
  }
  return { name, version: details.version, author: details.author };
}

export function readGdkConfig(projectRoot: string): ComponentIdentity {
  return parseGdkConfig(readFileSync(join(projectRoot, 'gdk-config.json'), 'utf8'));
}

export function componentIdentity(): ComponentIdentity {
  if (typeof __COMPONENT_IDENTITY__ !== 'undefined') return __COMPONENT_IDENTITY__;
  return readGdkConfig(join(__dirname, '..', '..'));
}
