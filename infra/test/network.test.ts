import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { idOf, idsOfType, synth } from './helpers';

type Rule = { proto: string; from: number; to: number; source: string };

/** Every ingress rule of a security group: inline ones and standalone AWS::EC2::SecurityGroupIngress. */
function ingressOf(json: any, sgId: string): Rule[] {
  const norm = (r: any): Rule => ({
    proto: r.IpProtocol,
    from: r.FromPort,
    to: r.ToPort,
    source: r.CidrIp ?? r.CidrIpv6 ?? r.SourcePrefixListId ?? `sg:${r.SourceSecurityGroupId?.['Fn::GetAtt']?.[0]}`,
  });
  const inline = (json.Resources[sgId].Properties.SecurityGroupIngress ?? []).map(norm);
  const standalone = idsOfType(json, 'AWS::EC2::SecurityGroupIngress')
    .map((id) => json.Resources[id].Properties)
    .filter((p: any) => p.GroupId?.['Fn::GetAtt']?.[0] === sgId)
    .map(norm);
  return [...inline, ...standalone].sort((a, b) => a.from - b.from);
}

const WEB_RULES: Rule[] = [
  { proto: 'tcp', from: 80, to: 80, source: '0.0.0.0/0' },
  { proto: 'tcp', from: 443, to: 443, source: '0.0.0.0/0' },
];

describe('VPC', () => {
  it('spans two AZs with public and isolated subnets and no NAT gateway by default', () => {
    const { template, json } = synth();
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = idsOfType(json, 'AWS::EC2::Subnet');
    expect(subnets.sort()).toEqual(['VpcDbSubnet1Subnet', 'VpcDbSubnet2Subnet', 'VpcPublicSubnet1Subnet', 'VpcPublicSubnet2Subnet'].map((p) => expect.stringMatching(`^${p}`)));
    const azs = subnets.map((id) => JSON.stringify(json.Resources[id].Properties.AvailabilityZone));
    expect(new Set(azs).size).toBe(2);
    for (const id of subnets) {
      const tags = json.Resources[id].Properties.Tags;
      const type = tags.find((t: any) => t.Key === 'aws-cdk:subnet-type').Value;
      expect(type).toBe(id.startsWith('VpcPublic') ? 'Public' : 'Isolated');
      expect(json.Resources[id].Properties.MapPublicIpOnLaunch).toBe(id.startsWith('VpcPublic'));
    }
    // only the public route tables have a default route (to the internet gateway)
    const routes = idsOfType(json, 'AWS::EC2::Route').map((id) => json.Resources[id].Properties);
    expect(routes).toHaveLength(2);
    for (const r of routes) {
      expect(r.DestinationCidrBlock).toBe('0.0.0.0/0');
      expect(r.GatewayId).toBeDefined();
      expect(r.RouteTableId.Ref).toMatch(/^VpcPublicSubnet/);
    }
  });

  it('adds NAT gateways (and private subnets for them) only when natGateways is set', () => {
    const { template, json } = synth({ natGateways: '1' });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(idsOfType(json, 'AWS::EC2::Subnet')).toHaveLength(6);
  });

  it('has an S3 gateway endpoint on every route table', () => {
    const { template, json } = synth();
    const tables = idsOfType(json, 'AWS::EC2::RouteTable').map((id) => ({ Ref: id }));
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: Match.arrayEquals(tables),
    });
  });
});

describe('security groups', () => {
  it('there are exactly two: web host and database', () => {
    const { json } = synth();
    expect(idsOfType(json, 'AWS::EC2::SecurityGroup').sort()).toEqual([
      expect.stringMatching(/^DbSg/),
      expect.stringMatching(/^WebSg/),
    ]);
  });

  it('web host: 80 and 443 from anywhere, no SSH when adminCidr is unset', () => {
    const { json } = synth();
    const web = idOf(json, 'AWS::EC2::SecurityGroup', 'WebSg');
    expect(ingressOf(json, web)).toEqual(WEB_RULES);
  });

  it('web host: SSH only from adminCidr when it is set', () => {
    const { json } = synth({ adminCidr: '203.0.113.7/32' });
    const web = idOf(json, 'AWS::EC2::SecurityGroup', 'WebSg');
    expect(ingressOf(json, web)).toEqual([
      { proto: 'tcp', from: 22, to: 22, source: '203.0.113.7/32' },
      ...WEB_RULES,
    ]);
  });

  it('web host may reach anything outbound', () => {
    const { json } = synth();
    const web = idOf(json, 'AWS::EC2::SecurityGroup', 'WebSg');
    expect(json.Resources[web].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1' },
    ]);
  });

  it.each([[{}], [{ adminCidr: '203.0.113.7/32' }], [{ privateBucket: 'true' }]])(
    'database: only 3306 from the web host SG, no outbound (%j)',
    (ctx) => {
      const { json } = synth(ctx as Record<string, string>);
      const db = idOf(json, 'AWS::EC2::SecurityGroup', 'DbSg');
      const web = idOf(json, 'AWS::EC2::SecurityGroup', 'WebSg');
      expect(ingressOf(json, db)).toEqual([{ proto: 'tcp', from: 3306, to: 3306, source: `sg:${web}` }]);
      // CDK's placeholder for "no egress": a rule matching nothing.
      expect(json.Resources[db].Properties.SecurityGroupEgress).toEqual([
        { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
      ]);
      // no other standalone rule anywhere in the template
      expect(idsOfType(json, 'AWS::EC2::SecurityGroupIngress')).toHaveLength(1);
      expect(idsOfType(json, 'AWS::EC2::SecurityGroupEgress')).toHaveLength(0);
    },
  );
});
