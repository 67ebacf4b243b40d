import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { idOf, idsOfType, render, synth } from './helpers';

function instanceOf(json: any) {
  const id = idOf(json, 'AWS::EC2::Instance', 'Web');
  return { id, resource: json.Resources[id] };
}

function userDataOf(json: any): string {
  return render(instanceOf(json).resource.Properties.UserData);
}

function envFileOf(userData: string): string[] {
  const m = /cat > "\$tmp" <<EOF\n([\s\S]*?)\nEOF\n/.exec(userData);
  if (!m) throw new Error('env file heredoc not found in user data');
  return m[1].split('\n');
}

describe('web host instance', () => {
  it('requires IMDSv2 with hop limit 2', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::EC2::Instance', {
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
    });
  });

  it('is a t4g.small on the latest Amazon Linux 2023 (arm64, via SSM parameter) in a public subnet', () => {
    const { json } = synth();
    const p = instanceOf(json).resource.Properties;
    expect(p.InstanceType).toBe('t4g.small');
    expect(p.SubnetId.Ref).toMatch(/^VpcPublicSubnet1Subnet/);
    expect(p.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [idOf(json, 'AWS::EC2::SecurityGroup', 'WebSg'), 'GroupId'] }]);
    const param = json.Parameters[p.ImageId.Ref];
    expect(param.Type).toBe('AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    expect(param.Default).toMatch(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-.*-arm64$/);
    expect(p.BlockDeviceMappings).toEqual([
      { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 20, VolumeType: 'gp3' } },
    ]);
  });

  it('picks the x86_64 AMI for an x86 instance type, and a pinned AMI when amiId is given', () => {
    const x86 = synth({ instanceType: 't3.small' }).json;
    const p = instanceOf(x86).resource.Properties;
    expect(p.InstanceType).toBe('t3.small');
    expect(x86.Parameters[p.ImageId.Ref].Default).toMatch(/al2023-ami-kernel-.*-x86_64$/);
    const pinned = synth({ amiId: 'ami-0123456789abcdef0', region: 'eu-west-1' }).json;
    expect(instanceOf(pinned).resource.Properties.ImageId).toBe('ami-0123456789abcdef0');
  });

  it('uses the web role through an instance profile', () => {
    const { json } = synth();
    const profile = idOf(json, 'AWS::IAM::InstanceProfile', 'WebInstanceProfile');
    expect(instanceOf(json).resource.Properties.IamInstanceProfile).toEqual({ Ref: profile });
    expect(json.Resources[profile].Properties.Roles).toEqual([{ Ref: idOf(json, 'AWS::IAM::Role', 'WebRole') }]);
  });

  it('waits for the bootstrap to signal success', () => {
    const { json } = synth();
    const { id, resource } = instanceOf(json);
    expect(resource.CreationPolicy).toEqual({ ResourceSignal: { Timeout: 'PT30M' } });
    const ud = userDataOf(json);
    expect(ud).toContain(`/opt/aws/bin/cfn-signal --stack SnapStore --resource ${id} --region us-east-1 -e $exitCode`);
    expect(ud.indexOf('trap exitTrap EXIT')).toBeLessThan(ud.indexOf('set -euo pipefail'));
  });
});

describe('user data', () => {
  it('installs Node.js 20, nginx, git and jq', () => {
    const ud = userDataOf(synth().json);
    expect(ud).toMatch(/^dnf install -y nodejs20 nodejs20-npm nginx git jq$/m);
    expect(ud).toContain('grep -q "^v20\\."');
  });

  it('fetches repoUrl at repoRef (placeholders by default)', () => {
    const def = userDataOf(synth().json);
    expect(def).toContain("REPO_URL='https://github.com/CHANGE-ME/snapstore.git'");
    expect(def).toContain("REPO_REF='main'");
    const custom = userDataOf(synth({ repoUrl: 'https://git.example.com/me/snapstore.git', repoRef: 'v1.2.3' }).json);
    expect(custom).toContain("REPO_URL='https://git.example.com/me/snapstore.git'");
    expect(custom).toContain("REPO_REF='v1.2.3'");
    expect(custom).toContain('git clone --quiet "$REPO_URL" /opt/snapstore');
    expect(custom).toContain('checkout --quiet --detach "origin/$REPO_REF"');
  });

  it('writes /etc/snapstore/snapstore.env from the DB secret with aws secretsmanager + jq', () => {
    const { json } = synth();
    const ud = userDataOf(json);
    const attachment = idOf(json, 'AWS::SecretsManager::SecretTargetAttachment', 'DbSecretAttachment');
    expect(ud).toContain(
      `aws secretsmanager get-secret-value --region us-east-1 --secret-id \${${attachment}} --query SecretString --output text`,
    );
    expect(ud).toContain(`db_user=$(jq -er '.username | @uri' <<<"$secret")`);
    expect(ud).toContain(`db_pass=$(jq -er '.password | @uri' <<<"$secret")`);
    expect(ud).toContain('mv -f "$tmp" /etc/snapstore/snapstore.env');
    expect(ud).toMatch(/^\/usr\/local\/sbin\/snapstore-write-env$/m);
  });

  it('public bucket mode env file', () => {
    const { json } = synth();
    const db = idOf(json, 'AWS::RDS::DBInstance', 'Db');
    const bucket = idOf(json, 'AWS::S3::Bucket', 'Uploads');
    expect(envFileOf(userDataOf(json))).toEqual([
      'NODE_ENV=production',
      'PORT=3000',
      'HOST=127.0.0.1',
      'TRUST_PROXY=loopback',
      `DATABASE_URL=mysql://\${db_user}:\${db_pass}@\${${db}.Endpoint.Address}:\${${db}.Endpoint.Port}/snapstore`,
      'DATABASE_TLS=rds',
      `S3_BUCKET=\${${bucket}}`,
      'S3_REGION=us-east-1',
      'S3_ACL=public-read',
      'UPLOAD_DIR=/opt/snapstore/uploads',
      'DATA_DIR=/opt/snapstore/data',
      'LOG_LEVEL=info',
    ]);
  });

  it('private bucket mode env file: S3_ACL=none and S3_PUBLIC_BASE_URL=https://<cloudfront domain>', () => {
    const { json } = synth({ privateBucket: 'true', region: 'eu-central-1' });
    const env = envFileOf(userDataOf(json));
    const cdn = idOf(json, 'AWS::CloudFront::Distribution', 'Cdn');
    expect(env).toContain('S3_ACL=none');
    expect(env).toContain(`S3_PUBLIC_BASE_URL=https://\${${cdn}.DomainName}`);
    expect(env).toContain('S3_REGION=eu-central-1');
    expect(env).not.toContain('S3_ACL=public-read');
  });

  it('runs deploy/install.sh, which installs and enables the unit and the nginx site', () => {
    const ud = userDataOf(synth().json);
    expect(ud).toMatch(/^bash \/opt\/snapstore\/deploy\/install\.sh$/m);
  });

  it('is valid bash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapstore-ud-'));
    for (const ctx of [{}, { privateBucket: 'true' }] as Record<string, string>[]) {
      const file = join(dir, 'user-data.sh');
      writeFileSync(file, userDataOf(synth(ctx).json));
      execFileSync('bash', ['-n', file]);
      // the env writer it embeds, too
      const writer = /<<'SNAPSTORE_ENV_WRITER'\n([\s\S]*?)\nSNAPSTORE_ENV_WRITER\n/.exec(userDataOf(synth(ctx).json));
      expect(writer).not.toBeNull();
      writeFileSync(file, writer![1]);
      execFileSync('bash', ['-n', file]);
    }
  });

  it('a changed bootstrap replaces the host (the user data only runs on first boot)', () => {
    const a = instanceOf(synth().json).id;
    const b = instanceOf(synth({ repoRef: 'v2' }).json).id;
    expect(a).not.toBe(b);
  });

  it('stays well under the 16 KB user data limit', () => {
    expect(Buffer.byteLength(userDataOf(synth({ privateBucket: 'true' }).json))).toBeLessThan(12_000);
  });
});

describe('synth', () => {
  it.each([[{}], [{ privateBucket: 'true', adminCidr: '198.51.100.0/24', natGateways: '1' }]])(
    'needs no lookups, credentials or network (%j)',
    (ctx) => {
      const { app } = synth(ctx as Record<string, string>);
      const assembly = app.synth();
      expect(assembly.manifest.missing ?? []).toEqual([]);
      const stack = assembly.getStackByName('SnapStore');
      const problems = stack.messages.filter((m) => m.level === 'error' || m.level === 'warning');
      expect(problems).toEqual([]);
    },
  );

  it('has exactly one instance, one database, one bucket', () => {
    const { json } = synth();
    expect(idsOfType(json, 'AWS::EC2::Instance')).toHaveLength(1);
    expect(idsOfType(json, 'AWS::RDS::DBInstance')).toHaveLength(1);
    expect(idsOfType(json, 'AWS::S3::Bucket')).toHaveLength(1);
  });
});
