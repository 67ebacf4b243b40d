import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readConfig } from '../lib/config';
import { SnapStoreStack } from '../lib/snapstore-stack';

export const INFRA_DIR = join(__dirname, '..');
export const DEPLOY_DIR = join(INFRA_DIR, '..', 'deploy');

/** The feature flags and settings from cdk.json, so tests see what `cdk synth` sees. */
const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(INFRA_DIR, 'cdk.json'), 'utf8')).context;

export interface Synth {
  app: cdk.App;
  stack: SnapStoreStack;
  template: Template;
  json: any;
}

const cache = new Map<string, Synth>();

/** Synthesize the stack exactly as bin/snapstore.ts does, with extra `-c` context. */
export function synth(context: Record<string, string> = {}): Synth {
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new cdk.App({ context: { ...CDK_JSON_CONTEXT, ...context } });
  const config = readConfig(app.node, {});
  const stack = new SnapStoreStack(app, 'SnapStore', {
    stackName: config.stackName,
    env: { account: config.account, region: config.region },
    config,
  });
  const template = Template.fromStack(stack);
  const result = { app, stack, template, json: template.toJSON() };
  cache.set(key, result);
  return result;
}

/** Logical ids of all resources of a type. */
export function idsOfType(json: any, type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, r]: [string, any]) => r.Type === type)
    .map(([id]) => id);
}

/** The single logical id of a resource of `type` whose id starts with `prefix`. */
export function idOf(json: any, type: string, prefix: string): string {
  const ids = idsOfType(json, type).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/**
 * Render a CloudFormation string expression (Fn::Join / Ref / Fn::GetAtt /
 * Fn::Base64) into text, tokens shown as ${LogicalId} or ${LogicalId.Attr}.
 */
export function render(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    if ('Fn::Base64' in value) return render(value['Fn::Base64']);
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return parts.map(render).join(sep);
    }
    if ('Ref' in value) return `\${${value.Ref}}`;
    if ('Fn::GetAtt' in value) return `\${${value['Fn::GetAtt'].join('.')}}`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

export function readDeployFile(name: string): string {
  return readFileSync(join(DEPLOY_DIR, name), 'utf8');
}
