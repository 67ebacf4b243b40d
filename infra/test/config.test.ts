import { describe, expect, it } from 'vitest';
import { DEFAULT_REPO_REF, DEFAULT_REPO_URL, readConfig } from '../lib/config';

const ctx = (values: Record<string, unknown>) => ({ tryGetContext: (k: string) => values[k] });

describe('context options', () => {
  it('defaults', () => {
    expect(readConfig(ctx({}))).toEqual({
      stackName: 'SnapStore',
      account: undefined,
      region: 'us-east-1',
      adminCidr: undefined,
      natGateways: 0,
      privateBucket: false,
      deletionProtection: true,
      repoUrl: DEFAULT_REPO_URL,
      repoRef: DEFAULT_REPO_REF,
      instanceType: 't4g.small',
      dbInstanceClass: 't4g.micro',
      mysqlVersion: '8.4',
      dbAllocatedStorage: 20,
      dbBackupRetentionDays: 7,
      amiId: undefined,
    });
  });

  it('region: -c region, else CDK_DEFAULT_REGION, else us-east-1', () => {
    expect(readConfig(ctx({}), { CDK_DEFAULT_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(readConfig(ctx({ region: 'ap-south-1' }), { CDK_DEFAULT_REGION: 'eu-west-1' }).region).toBe('ap-south-1');
  });

  it('parses strings from the command line and JSON values from cdk.json', () => {
    const c = readConfig(ctx({ privateBucket: 'true', deletionProtection: false, natGateways: '1', adminCidr: ' 203.0.113.7/32 ' }));
    expect(c).toMatchObject({ privateBucket: true, deletionProtection: false, natGateways: 1, adminCidr: '203.0.113.7/32' });
    expect(readConfig(ctx({ adminCidr: '' })).adminCidr).toBeUndefined();
    expect(readConfig(ctx({ dbInstanceClass: 'db.t4g.small' })).dbInstanceClass).toBe('t4g.small');
  });

  it('mysqlVersion: 8.4 by default, 8.0 on request (-c mysqlVersion=8.0 or cdk.json)', () => {
    expect(readConfig(ctx({})).mysqlVersion).toBe('8.4');
    expect(readConfig(ctx({ mysqlVersion: '8.0' })).mysqlVersion).toBe('8.0');
    expect(readConfig(ctx({ mysqlVersion: '8.4' })).mysqlVersion).toBe('8.4');
  });

  it.each([
    [{ adminCidr: '0.0.0.0/0' }, /must not be 0.0.0.0\/0/],
    [{ adminCidr: '10.0.0.1' }, /IPv4 CIDR/],
    [{ adminCidr: '300.0.0.1/32' }, /IPv4 CIDR/],
    [{ privateBucket: 'maybe' }, /true or false/],
    [{ natGateways: '3' }, /between 0 and 2/],
    [{ natGateways: '-1' }, /integer/],
    [{ repoRef: 'main; rm -rf /' }, /repoRef/],
    [{ repoRef: '--upload-pack=x' }, /repoRef/],
    [{ repoUrl: 'https://x/$(id)' }, /repoUrl/],
    [{ repoUrl: 'file:///etc' }, /repoUrl/],
    [{ amiId: 'ubuntu' }, /amiId/],
    [{ mysqlVersion: '5.7' }, /mysqlVersion/],
    [{ mysqlVersion: '8' }, /mysqlVersion/],
    [{ mysqlVersion: '9.0' }, /mysqlVersion/],
    [{ account: '123' }, /account/],
  ])('rejects %j', (values, message) => {
    expect(() => readConfig(ctx(values))).toThrow(message);
  });
});
