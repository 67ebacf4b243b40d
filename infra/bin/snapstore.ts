#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { readConfig } from '../lib/config';
import { SnapStoreStack } from '../lib/snapstore-stack';

const app = new cdk.App();
const config = readConfig(app.node, process.env);

new SnapStoreStack(app, 'SnapStore', {
  stackName: config.stackName,
  description: `SnapStore image upload service: EC2 (nginx + Node 20), RDS MySQL ${config.mysqlVersion}, S3`,
  // Account left unset unless given with -c account=...: the template stays
  // account-agnostic and synth never needs AWS credentials or lookups.
  env: { account: config.account, region: config.region },
  config,
});
cdk.Tags.of(app).add('app', 'snapstore');
